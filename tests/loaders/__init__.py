"""Tests of var_bench.loaders (a package so helpers here import as ``.tables``)."""
