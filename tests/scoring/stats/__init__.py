"""Tests of var_bench.scoring.stats (a package so helpers here import as ``.systems``)."""
