"""Moment baselines on synthetic data whose signal sits in the annotated segments: window
similarity and XML's trained moment head localise above chance (random) and above predicting
whole videos; the trained head beats itself untrained."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from var_bench.models.baselines.moments import (
    MomentHead,
    best_spans,
    entries,
    random_moments,
    span_loss,
    whole_video_moments,
)
from var_bench.search.moments import window_moments
from var_bench.tasks import Gold, IdList
from var_bench.tasks.moments import Grounding, MomentRetrieval

V, L, D, PER_VIDEO = 12, 24, 16, 4  # videos, clips per video, feature size, sentences per video
CLIP_S = 2.0  # seconds per clip


def synthetic(seed: int):
    """Per video PER_VIDEO sentences with disjoint 3-6 clip segments; a clip inside a sentence's
    segment carries the sentence's vector (plus noise); queries are noisy copies of it."""
    r = np.random.default_rng(seed)
    clips = r.standard_normal((V, L, D)) * 0.5
    queries, gold = [], []
    for v in range(V):
        cuts = np.sort(r.choice(np.arange(1, L // PER_VIDEO), PER_VIDEO, replace=True))
        for n in range(PER_VIDEO):
            a = n * (L // PER_VIDEO) + int(cuts[n] % 2)
            b = a + int(r.integers(3, 6))
            z = r.standard_normal(D)
            clips[v, a:b] += z
            queries.append(z + 0.3 * r.standard_normal(D))
            gold.append((v, a, b))
    ids = [f"q{i}" for i in range(len(gold))]
    videos = [f"v{j}" for j in range(V)]
    g = Gold(
        IdList.of(ids),
        IdList.of(videos),
        (np.arange(len(gold) + 1), np.array([v for v, _, _ in gold])),
        segments=np.array([(a * CLIP_S, b * CLIP_S) for _, a, b in gold]),
    )
    return np.array(queries), clips, gold, ids, videos, g


def score(task, entries, gold) -> dict[str, float]:
    with task.read(entries, gold, benchmark="synthetic") as sub:
        return task.summarise(task.score(sub, gold)[task.group], None)


def test_window_similarity_localises_above_chance_and_whole_videos():
    q, clips, _, ids, videos, gold = synthetic(0)
    durations = np.full(V, L * CLIP_S)
    sim = [q @ clips[j].T for j in range(V)]  # [Q, L] per video
    task = MomentRetrieval("moments")
    chance = score(task, random_moments(ids, videos, durations, seed=1), gold)
    whole = score(
        task,
        whole_video_moments(ids, videos, durations, np.stack([s.max(1) for s in sim], 1)),
        gold,
    )
    window = score(task, window_moments(ids, videos, sim, CLIP_S, width=4), gold)
    assert whole["R@1"] > 80.0 and whole["R@10,IoU=0.3"] == 0.0  # finds videos, not moments
    assert window["R@1,IoU=0.3"] > 50.0 > chance["R@10,IoU=0.3"] + 20.0
    assert window["R@5,IoU=0.5"] > chance["R@5,IoU=0.5"] + 30.0


@pytest.fixture
def one_thread():
    """Tiny tensors: threads only add contention on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_xml_moment_head_learns_to_localise(one_thread):
    torch.manual_seed(0)
    train, test = synthetic(1), synthetic(2)
    head = MomentHead(D, D, hidden=32)

    def grounding(data):
        q, clips, gold_rows, ids, videos, gold = data
        x = torch.tensor(q, dtype=torch.float32)
        c = torch.tensor(clips[[v for v, _, _ in gold_rows]], dtype=torch.float32)
        mask = torch.ones(c.shape[:2], dtype=torch.bool)
        with torch.no_grad():
            st, ed = head(x, c, mask)
        st, ed = st.softmax(-1).numpy(), ed.softmax(-1).numpy()
        rows = []
        for i, (v, _, _) in enumerate(gold_rows):  # one video per query: its top 5 spans
            _, a, b, s = best_spans(st[i : i + 1], ed[i : i + 1], max_len=8, k=5)
            rows.append(
                [
                    [videos[v], x * CLIP_S, (y + 1) * CLIP_S, z]
                    for x, y, z in zip(a.tolist(), b.tolist(), s.tolist())
                ]
            )
        return score(Grounding("grounding"), entries(ids, rows), gold)

    before = grounding(test)
    q, clips, gold_rows, *_ = train
    x = torch.tensor(q, dtype=torch.float32)
    c = torch.tensor(clips[[v for v, _, _ in gold_rows]], dtype=torch.float32)
    mask = torch.ones(c.shape[:2], dtype=torch.bool)
    start = torch.tensor([a for _, a, _ in gold_rows])
    end = torch.tensor([b - 1 for _, _, b in gold_rows])
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        loss = span_loss(*head(x, c, mask), start, end)
        loss.backward()
        opt.step()
    after = grounding(test)
    durations = np.full(V, L * CLIP_S)
    _, _, gold_rows, ids, videos, gold = test
    chance = random_moments(ids, videos, durations, seed=3, k=5)
    for e, (v, _, _) in zip(chance, gold_rows):
        for p in e["predictions"]:
            p[0] = videos[v]
    chance = score(Grounding("grounding"), chance, gold)
    assert after["R@1,IoU=0.5"] > max(before["R@1,IoU=0.5"], chance["R@1,IoU=0.5"]) + 25.0
    assert after["mIoU"] > chance["mIoU"] + 20.0
