"""Search results for people: a text table and a self-contained HTML page (no JavaScript, no
network), each video's best segment drawn on its timeline."""

from __future__ import annotations

import html
from collections.abc import Sequence

from var_bench.search.index import Index, SearchHit
from var_bench.tables import plain_table


def render_text(index: Index, query: str, hits: Sequence[SearchHit]) -> str:
    """The ranked videos as a table, then the one-line reminder of the model's scores."""
    rows = [
        [
            h.rank,
            h.video_id,
            round(h.score, 4),
            f"{h.segment_s[0]:.1f}-{h.segment_s[1]:.1f} s",
            (h.caption or "")[:60],
        ]
        for h in hits
    ]
    table = plain_table(["rank", "video", "score", "segment", "caption"], rows, digits=4)
    return f"{table}\nmodel: {index.summary()}; segments from {hits[0].evidence if hits else 'n/a'}"


def render_html(index: Index, query: str, hits: Sequence[SearchHit]) -> str:
    """A page with the query, the model line, and per hit its timeline (segment highlighted)."""
    esc = html.escape
    lengths = dict(zip(index.info.videos, index.info.lengths))
    F, fps = index.info.snippet_frames, index.info.fps
    items = []
    for h in hits:
        duration = max(lengths.get(h.video_id, 1) * F / fps, 1e-9)
        left = 100.0 * h.segment_s[0] / duration
        width = max(0.5, 100.0 * (h.segment_s[1] - h.segment_s[0]) / duration)
        caption = f'<p class="cap">{esc(h.caption)}</p>' if h.caption else ""
        items.append(
            f'<li><div class="head"><span class="rank">{h.rank}</span> '
            f'<span class="vid">{esc(h.video_id)}</span> '
            f'<span class="score">score {h.score:.4f}</span> '
            f'<span class="seg">{h.segment_s[0]:.1f}&ndash;{h.segment_s[1]:.1f} s '
            f"of {duration:.1f} s</span></div>"
            f'<div class="timeline" role="img" aria-label="segment {h.segment_s[0]:.1f} to '
            f'{h.segment_s[1]:.1f} seconds"><div class="segment" style="left:{left:.2f}%;'
            f'width:{width:.2f}%"></div></div>{caption}</li>'
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>var-bench search: {esc(query)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; color: #1a1a1a; }}
h1 {{ font-size: 1.3rem; }} .model {{ color: #444; font-size: 0.9rem; }}
ol {{ list-style: none; padding: 0; }} li {{ margin: 0 0 1.1rem; }}
.head {{ display: flex; flex-wrap: wrap; gap: 0.6rem; align-items: baseline; }}
.rank {{ font-weight: bold; min-width: 2rem; }} .vid {{ font-family: monospace; word-break: break-all; }}
.score, .seg {{ color: #555; font-size: 0.9rem; }}
.timeline {{ position: relative; height: 0.9rem; background: #e6e6e6; border-radius: 3px; margin-top: 0.3rem; }}
.segment {{ position: absolute; top: 0; bottom: 0; background: #c2410c; border-radius: 3px; }}
.cap {{ margin: 0.3rem 0 0; font-size: 0.92rem; }}
</style></head><body>
<h1>Query: {esc(query)}</h1>
<p class="model">{esc(index.summary())}. Segment = the window with the highest model similarity ({esc(hits[0].evidence if hits else "n/a")}).</p>
<ol>
{chr(10).join(items)}
</ol>
<p class="model">For lawful, research-only use of surveillance video; see the datasets' licences.</p>
</body></html>
"""  # noqa: E501
