"""Where the repository and its docs are, for tests that read them."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SHARED = REPO.parent / "shared"
