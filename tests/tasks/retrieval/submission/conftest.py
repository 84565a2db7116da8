"""The submission tests' matrix: a random UCFCrime-AR-sized S."""

import numpy as np
import pytest
from support.submissions import N_UCF


@pytest.fixture(scope="module")
def S() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((N_UCF, N_UCF)).astype(np.float32)
