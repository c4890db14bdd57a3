"""What a --resume snapshot costs: the plain-data codec (artifactlens.plain: JSON tree + .npy arrays, no
code on load) against pickle (what checkpoints used before, and what runs code on load), on the state of a
real labels check over N synthetic items (the bottom-k item sample, Counters, bootstrap sums).

    python bench/bench_checkpoint_state.py [N]      # default 200,000 items (the labels check's cap)

Prints seconds to write and to read each, the sizes and the ratios. The engine snapshots at most every
30 s or every 10 snapshot-durations, whichever is longer, so a snapshot costs at most ~10% of a run.
"""
from __future__ import annotations

import pickle
import sys
import time

import pyarrow as pa


def labels_state(n: int):
    from artifactlens.audits.labels.check import LabelCheck
    from artifactlens.engine import BatchContext
    from artifactlens.engine.local import Accumulator, map_batch
    rows = [{"id": f"i{i}", "text": f"item {i} with a few words of text", "human": str(["a", "b", "a"][: 2 + i % 2]),
             "llm": str(["a"] * 3 if i % 5 else ["b", "a", "a"])} for i in range(n)]
    chk = LabelCheck(human="human", llm_column="llm", text="text", id="id")
    with Accumulator([chk], None) as acc:
        for s in range(0, n, 8192):
            b = pa.RecordBatch.from_pylist(rows[s:s + 8192])
            acc.add(b, map_batch([chk], b, BatchContext(s // 8192, s)))
    return acc.states


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    from artifactlens import plain
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    state = labels_state(n)
    w_plain, blob = timed(lambda: plain.dumps(state))
    r_plain, back = timed(lambda: plain.loads(blob))
    w_pickle, pblob = timed(lambda: pickle.dumps(state, protocol=5))
    r_pickle, _ = timed(lambda: pickle.loads(pblob))  # noqa: S301 - the peer measured, our own bytes
    items = len(back["labels"]["items"])
    print(f"labels state over {n:,} rows ({items:,} items kept)")
    print(f"plain : write {w_plain:.3f} s, read {r_plain:.3f} s, {len(blob) / 1e6:.1f} MB")
    print(f"pickle: write {w_pickle:.3f} s, read {r_pickle:.3f} s, {len(pblob) / 1e6:.1f} MB")
    print(f"ratio plain/pickle: write {w_plain / w_pickle:.1f}x, read {r_plain / r_pickle:.1f}x, "
          f"size {len(blob) / len(pblob):.1f}x")


if __name__ == "__main__":
    main()
