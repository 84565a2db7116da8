"""Facts shared by the VAR benchmarks: the paper that introduced them and its citation."""

PAPER = (
    "Wu et al., Towards Video Anomaly Retrieval from Video Anomaly Detection, IEEE TIP 33 (2024)"
)

VAR_BIB = """@article{wu2024var,
  title   = {Towards Video Anomaly Retrieval from Video Anomaly Detection: New Benchmarks and Model},
  author  = {Wu, Peng and Liu, Jing and He, Xiangteng and Peng, Yuxin and Wang, Peng and Zhang, Yanning},
  journal = {IEEE Transactions on Image Processing},
  volume  = {33},
  pages   = {2213--2225},
  year    = {2024},
  note    = {arXiv:2307.12545}
}"""  # noqa: E501
