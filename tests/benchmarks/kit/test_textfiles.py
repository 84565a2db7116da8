from var_bench.benchmarks.kit import basename


def test_basename_posix_and_windows():
    assert basename("/media/peng/x/a__0.npy") == "a__0.npy"
    assert basename("UCF_Train_ten_crop_i3d\\Abuse001_x264_i3d.npy") == "Abuse001_x264_i3d.npy"
