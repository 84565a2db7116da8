"""Reading the Markdown leaderboard back into cells (leaderboard and CLI tests)."""

from __future__ import annotations

#: Column of SumR in the Markdown table: rank, tier, method, source, then 5 metrics per direction.
SUMR_COL = 4 + 2 * 5


def md_rows(md: str) -> dict[str, list[str]]:
    """Method -> cells of the leaderboard table (the first table of the document)."""
    table = md.split("\n\n")[1].splitlines()
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table[2:]]
    return {r[2]: r for r in rows}
