"""Tests of var_bench.metrics (a package so helpers here import as ``.reference``)."""
