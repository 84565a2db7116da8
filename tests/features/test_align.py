import numpy as np
import pytest

from var_bench.errors import InputError
from var_bench.features.align import aligned_length, check_crops_mode, reduce_crops


def test_reduce_crops_modes():
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_allclose(reduce_crops(x, "mean"), x.mean(axis=1))
    np.testing.assert_array_equal(reduce_crops(x, "center"), x[:, 0])
    out = reduce_crops(x, "all")
    np.testing.assert_array_equal(out, x)
    assert out is not x and out.flags.c_contiguous and out.dtype == np.float32


def test_mean_is_float32_even_for_float16_input():
    x = np.full((1, 4, 2), 60000, dtype=np.float16)  # a float16 sum would overflow
    assert np.isfinite(reduce_crops(x, "mean")).all()


def test_bad_mode():
    with pytest.raises(InputError, match="crops: expected one of mean, center, all"):
        check_crops_mode("max")
    with pytest.raises(InputError):
        reduce_crops(np.zeros((1, 1, 1)), "max")


def test_aligned_length_trims_one_refuses_two():
    assert aligned_length({"rgb": 10, "flow": 9, "audio": 10}, "v") == 9
    assert aligned_length({"rgb": 3}, "v") == 3
    with pytest.raises(
        InputError, match=r"video v: expected stream lengths within 1 .*rgb T = 10, audio T = 8"
    ):
        aligned_length({"rgb": 10, "audio": 8}, "v")
