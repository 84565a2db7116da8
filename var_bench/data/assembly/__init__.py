"""The generic build: a benchmark unit's assembled tables -> Parquet + dataset card + manifest.

``pipeline`` (call the unit's assembler, verify every id list's checksum, write the build folder
atomically), ``schema`` (column types from the unit's column schema), ``card`` (dataset card),
``manifest`` (the build folder's file names and ``manifest.json``). Parsing the raw files is each
unit's own (``var_bench/benchmarks/<unit>/assemble.py``, with the kit in
``var_bench.benchmarks.kit``).
"""
