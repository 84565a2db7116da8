"""Filesystem helpers: atomic, umask-honouring writes and folder swaps (:mod:`.atomic`) and
checksums (:mod:`.hashing`)."""

from var_bench.fsutil.atomic import (  # noqa: F401
    atomic_path,
    atomic_write_text,
    atomic_writer,
    current_umask,
    honour_umask,
    make_temp_dir,
    remove_debris,
    swap_into_place,
)
from var_bench.fsutil.hashing import git_blob_sha1, sha256_file, sha256_lines  # noqa: F401
