"""Package data: the published results table (published.json)."""
