"""Task types: what a submission is, how it is scored, which metrics it has and which one ranks."""
