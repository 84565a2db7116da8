"""Tests of var_bench.scoring.metrics (a package so helpers here import as ``.reference``)."""
