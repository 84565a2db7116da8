"""Assembling a submission (var_bench.tasks.retrieval.submission.assemble): layouts, id binding,
benchmark inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.submissions import (
    N_UCF,
    N_XD,
    UCF_IDS,
    gold_for,
    no_list_gold,
    refused,
    save_npz,
    whole,
)

from var_bench.errors import InputError
from var_bench.fsutil import sha256_lines
from var_bench.scoring.score import read_submission
from var_bench.tasks import Gold, IdList


def test_npz_single_matrix_under_any_name(tmp_path, S):
    p = tmp_path / "s.npz"
    np.savez_compressed(p, arr_0=S)
    with read_submission(p) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_npz_per_direction(tmp_path, S):
    p = tmp_path / "s.npz"
    np.savez(p, t2v=S, v2t=S.T)
    with read_submission(p) as sub:
        assert sub.joint is None and set(sub.by_direction) == {"t2v", "v2t"}
        np.testing.assert_array_equal(whole(sub.by_direction["v2t"]), S.T)


def test_npz_per_direction_infers_the_benchmark_from_its_keys(tmp_path):
    S = np.zeros((N_XD, N_XD), np.float32)
    p = tmp_path / "s.npz"
    np.savez(p, a2v=S, v2a=S)
    with read_submission(p) as sub:
        assert sub.benchmark == "xdviolence-ar"


def test_one_direction_needs_only_its_matrix(tmp_path, S):
    p = tmp_path / "s.npz"
    np.savez(p, v2t=S.T)
    with read_submission(p, direction="v2t") as sub:
        assert sub.directions == ("v2t",) and set(sub.by_direction) == {"v2t"}


def test_npz_ids_in_shuffled_order_are_bound(tmp_path, S):
    rng = np.random.default_rng(1)
    rows, cols = rng.permutation(N_UCF), rng.permutation(N_UCF)
    p = tmp_path / "s.npz"
    ids = np.array(UCF_IDS)
    np.savez(p, arr_0=S[np.ix_(rows, cols)], text_ids=ids[rows], video_ids=ids[cols])
    with read_submission(p, gold=gold_for(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_per_direction_ids_bind_rows_and_columns_by_role(tmp_path, S):
    rng = np.random.default_rng(2)
    t, v = rng.permutation(N_UCF), rng.permutation(N_UCF)
    ids = np.array(UCF_IDS)
    p = tmp_path / "s.npz"
    # t2v is texts x videos, v2t is videos x texts: the same id arrays bind them both.
    np.savez(p, t2v=S[np.ix_(t, v)], v2t=S.T[np.ix_(v, t)], text_ids=ids[t], video_ids=ids[v])
    with read_submission(p, gold=gold_for(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.by_direction["t2v"]), S)
        np.testing.assert_array_equal(whole(sub.by_direction["v2t"]), S.T)


def test_ids_already_canonical_need_no_id_list(tmp_path, S):
    p = tmp_path / "s.npz"
    np.savez(p, arr_0=S, text_ids=np.array(UCF_IDS), video_ids=np.array(UCF_IDS))
    with read_submission(p, gold=no_list_gold(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_torch_dict_with_id_lists(tmp_path, S):
    perm = np.random.default_rng(3).permutation(N_UCF)
    p = tmp_path / "s.pth"
    torch.save(
        {
            "t2v": torch.from_numpy(S[perm]),
            "v2t": torch.from_numpy(S.T[:, perm].copy()),
            "text_ids": [UCF_IDS[i] for i in perm],
        },
        p,
    )
    with read_submission(p, gold=gold_for(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.by_direction["t2v"]), S)
        np.testing.assert_array_equal(whole(sub.by_direction["v2t"]), S.T)


def test_benchmark_is_inferred_from_n():
    assert read_submission(np.zeros((N_XD, N_XD))).benchmark == "xdviolence-ar"
    assert read_submission(np.zeros((N_UCF, N_UCF))).benchmark == "ucfcrime-ar"


def test_unknown_size_lists_the_expected_sizes():
    msg = refused("cannot tell the benchmark", read_submission, np.zeros((100, 100)))
    assert f"{N_UCF} x {N_UCF} (ucfcrime-ar)" in msg and f"{N_XD} x {N_XD} (xdviolence-ar)" in msg
    assert "100 x 100" in msg
    refused("cannot tell the benchmark", read_submission, np.zeros((N_UCF, N_XD)))


def test_non_test_split_needs_a_named_benchmark():
    refused(
        "expected a benchmark name when scoring split 'val'",
        read_submission,
        np.zeros((N_UCF, N_UCF)),
        split="val",
    )


def test_npz_extra_and_missing_keys(tmp_path, S):
    p = tmp_path / "k.npz"
    np.savez(p, t2v=S, v2t=S.T, foo=S)
    assert "got extra key 'foo'" in refused("expected keys", read_submission, p)
    np.savez(p, t2v=S)
    assert "missing key 'v2t'" in refused("expected keys", read_submission, p, direction="v2t")
    np.savez(p, text_ids=np.array(UCF_IDS))
    refused("got no matrix", read_submission, p, "ucfcrime-ar")


def test_npz_single_matrix_only_as_arr_0(tmp_path, S):
    """Issue 11, class 9: np.savez(path, video_to_text=S), a typo for v2t, is not taken as t2v."""
    with pytest.raises(InputError, match="expected .npz keys t2v, v2t or arr_0"):
        read_submission(
            save_npz(tmp_path, video_to_text=S), "ucfcrime-ar"
        )  # not silently taken as t2v
    p = tmp_path / "plain.npz"
    np.savez(p, S)  # what np.savez(path, S) writes: arr_0
    assert read_submission(p, "ucfcrime-ar").joint is not None


def test_ids_that_differ_say_how_many_and_show_one(tmp_path, S):
    p = tmp_path / "i.npz"
    ids = list(UCF_IDS)
    ids[5], ids[9] = "stranger_a", "stranger_b"
    np.savez(p, arr_0=S, video_ids=np.array(ids))
    msg = refused("canonical ids", read_submission, p, gold=gold_for(UCF_IDS))
    assert "2 missing (e.g. 'vid005')" in msg and "2 extra (e.g. 'stranger_a')" in msg
    assert "video_ids" in msg


def test_duplicate_ids_are_refused(tmp_path, S):
    p = tmp_path / "d.npz"
    ids = list(UCF_IDS)
    ids[1] = ids[0]
    np.savez(p, arr_0=S, text_ids=np.array(ids))
    refused("duplicate id 'vid000'", read_submission, p, gold=gold_for(UCF_IDS))


def test_ids_of_wrong_length_or_type(tmp_path, S):
    p = tmp_path / "w.npz"
    np.savez(p, arr_0=S, text_ids=np.array(UCF_IDS[:10]))
    refused(f"expected {N_UCF} ids", read_submission, p, gold=gold_for(UCF_IDS))
    np.savez(p, arr_0=S, text_ids=np.arange(N_UCF))
    refused("expected an array of string ids", read_submission, p, gold=gold_for(UCF_IDS))


def test_ids_without_a_canon_are_refused(S):
    unknown = Gold.identity(IdList(N_UCF, sha256_lines(UCF_IDS)))  # a hash, no list to bind to
    msg = refused(
        "canonical ids",
        read_submission,
        {"S": S, "text_ids": UCF_IDS[::-1]},
        "ucfcrime-ar",
        gold=unknown,
    )
    assert "text_ids" in msg and "var-bench ids ucfcrime-ar" in msg


def test_unknown_benchmark_and_direction():
    refused("unknown benchmark", read_submission, np.zeros((2, 2)), "msrvtt")
    refused("unknown direction", read_submission, np.zeros((N_UCF, N_UCF)), direction="a2v")
