"""``index.json`` read back through its schema (red-team round 2, SR1-SR9, IX4): tampered or
unfinished indexes are one InputError line naming the file and the field, chunk names are
confined to the index folder, and the chunks must hold what ``index.json`` says."""

from __future__ import annotations

import json

import pytest
import torch
from support.searchindex import INDEX_INFO

from var_bench.errors import InputError
from var_bench.search.index import Index
from var_bench.search.storage import INDEX_FILE, IndexInfo, save_chunk

GOOD = INDEX_INFO


def _write(folder, **changes):
    folder.mkdir(parents=True, exist_ok=True)
    raw = {**GOOD, **changes}
    (folder / INDEX_FILE).write_text(json.dumps(raw), "utf-8")
    return folder


def test_a_good_index_reads_back(tmp_path):
    info = IndexInfo.read(_write(tmp_path / "i"))
    assert info.videos == ["a", "b"] and info.scores["score"] == 12.5


@pytest.mark.parametrize(
    "case, changes, match",
    [
        ("SR1", {"chunks": ["../ok/chunk-00000.safetensors", "/etc/passwd"]}, "field chunks.0"),
        ("SR2", {"chunks": ["/runs/ce1/best/model.safetensors"]}, "field chunks.0"),
        ("SR3", {"videos": ["a"]}, "videos, lengths and captions of one length"),
        ("SR4", {"windows": []}, "at least one window per video"),
        ("SR5", {"windows": [[999999, 0, 1], [0, 0, 3], [1, 0, 2]]}, r"windows\.0: expected"),
        ("SR6", {"snippet_frames": 0, "fps": 0}, "field snippet_frames"),
        ("SR7", {"fps": float("nan")}, "field fps: expected a finite number"),
        ("SR8", {"videos": "abc", "lengths": None}, "field videos: expected a valid list"),
        ("SR9", {"scores": {"split": "test", "SumR": "lots"}}, "field scores.SumR"),
        ("lengths", {"lengths": [3, True]}, "field lengths.1"),
        ("window end", {"windows": [[0, 0, 4], [1, 0, 2]]}, r"windows\.0"),
        ("window shape", {"windows": [[0, 0], [1, 0, 2]]}, "field windows.0"),
        ("extra field", {"evil": 1}, "expected fields among .*got evil"),
        ("sha", {"weights_sha256": "zz"}, "field weights_sha256"),
        ("modality", {"query_modality": "smell"}, "field query_modality"),
        ("duplicates", {"videos": ["a", "a"]}, "distinct video ids"),
    ],
)
def test_tampered_fields_are_one_line_naming_file_and_field(tmp_path, case, changes, match):
    folder = _write(tmp_path / "i", **changes)
    with pytest.raises(InputError, match=match) as info:
        IndexInfo.read(folder)
    assert str(folder / INDEX_FILE) in str(info.value) and "\n" not in str(info.value)


def test_index_videos_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_BENCH_MAX_INDEX_VIDEOS", "1")
    with pytest.raises(InputError, match="VAR_BENCH_MAX_INDEX_VIDEOS=N"):
        IndexInfo.read(_write(tmp_path / "i"))


def test_truncated_and_fifo_index_json(tmp_path):
    import os

    folder = _write(tmp_path / "i")
    text = (folder / INDEX_FILE).read_text("utf-8")
    (folder / INDEX_FILE).write_text(text[: len(text) // 2], "utf-8")
    with pytest.raises(InputError, match="expected JSON"):
        IndexInfo.read(folder)
    (folder / INDEX_FILE).unlink()
    os.mkfifo(folder / INDEX_FILE)
    with pytest.raises(InputError, match="is a FIFO"):
        IndexInfo.read(folder)


def _index(folder) -> Index:
    return Index(folder, IndexInfo.read(folder), model=None, saved={}, device="cpu")


def _chunk(folder, videos=2, windows=3, key="emb"):
    save_chunk(
        folder / "chunk-00000.safetensors",
        {key: torch.zeros(videos, 4)},
        {key: torch.zeros(windows, 4)},
    )


def test_ix4_an_index_killed_before_its_first_chunk(tmp_path):
    folder = _write(tmp_path / "i", videos=[], lengths=[], captions=[], windows=[], chunks=[])
    with pytest.raises(InputError, match="holding videos, got none .*rerun var-bench index"):
        _index(folder)._load_outputs()


def test_sr2_a_chunk_of_something_else_is_refused(tmp_path):
    folder = _write(tmp_path / "i")
    from safetensors.torch import save_file

    save_file({"layer.weight": torch.zeros(2, 2)}, str(folder / "chunk-00000.safetensors"))
    with pytest.raises(InputError, match="expected an index chunk of this index's model"):
        _index(folder)._load_outputs()


def test_chunks_must_hold_what_index_json_says(tmp_path):
    folder = _write(tmp_path / "i")
    _chunk(folder, videos=5)
    with pytest.raises(InputError, match="expected chunks holding 2 videos and 3 windows"):
        _index(folder)._load_outputs()
    _chunk(folder)
    idx = _index(folder)
    idx._load_outputs()
    assert idx._gallery["emb"].shape == (2, 4)


def test_a_chunk_link_leaving_the_index_is_refused(tmp_path):
    folder = _write(tmp_path / "i")
    (tmp_path / "elsewhere.safetensors").write_bytes(b"x")
    (folder / "chunk-00000.safetensors").symlink_to(tmp_path / "elsewhere.safetensors")
    with pytest.raises(InputError, match="leads outside it"):
        _index(folder)._load_outputs()


def test_save_copies_only_confined_chunks(tmp_path):
    folder = _write(tmp_path / "i")
    _chunk(folder)
    out = _index(folder).save(tmp_path / "copy")
    assert (out / "chunk-00000.safetensors").is_file()
    assert IndexInfo.read(out).chunks == ["chunk-00000.safetensors"]


def test_summary_without_a_score(tmp_path):
    folder = _write(tmp_path / "i", scores={"split": "test"})
    assert "no benchmark scores recorded" in _index(folder).summary()


def test_ix8_a_bad_split_is_refused_before_the_out_folder_is_made(tmp_path):
    """IX8: ``index --split nosuch`` is one line and leaves no empty ``--out`` folder (the split
    is checked before the checkpoint is loaded or anything is created)."""
    out = tmp_path / "idx" / "t"
    with pytest.raises(InputError, match=r"split: expected one of .*got 'nosuch'"):
        Index.build(tmp_path / "no-checkpoint", "ucfcrime-ar", out, split="nosuch")
    assert not (tmp_path / "idx").exists()
