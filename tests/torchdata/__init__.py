"""Tests of var_bench.torchdata (a package so helpers here import as ``.tables``)."""
