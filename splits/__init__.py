"""Split rules and id-list checksums (JSON data), installed as ``var_bench.splits``."""
