"""Before/after comparison of every audit's figures (issue "One audit contract": nothing may move).

    python bench/golden.py run OUT_DIR        # the demo (all audits) + real runs on ../shared -> OUT_DIR/*.json
    python bench/golden.py compare OLD NEW    # every metric value and interval, flag count and table cell

Runs through the CLI (the surface that must not change), so the same script runs on any commit.
``compare`` prints each difference and exits 1 when any figure moved (params, dates, findings' wording
and the version are not figures and are ignored).
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

REAL = {
    "spp": ["simulations", str(SHARED / "under-the-surface/simulation/spp/spp_gpt4_logic_grid_0-99.jsonl")],
    "selfinstruct": ["instructions", str(SHARED / "self_instruct/davinci_predictions.jsonl"), "--no-embeddings"],
    "m4": ["text", str(SHARED / "m4/reddit_llama2.jsonl"), "--no-embeddings"],  # M4's wide layout: human_text, machine_text
}


def run(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "artifactlens"]
    subprocess.run(cmd + ["demo", "--out", str(out / "demo"), "--quiet"], check=True)
    for name, args in REAL.items():
        if not SHARED.exists():
            print(f"skip {name}: ../shared/data is absent")
            continue
        r = subprocess.run(cmd + ["audit", *args, "--json", str(out / f"{name}.json"), "--quiet"],
                           capture_output=True, text=True)
        print(f"{name}: exit {r.returncode} {r.stderr.strip()[-300:]}")


def _figures(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, m in d.get("metrics", {}).items():
        out[f"{prefix}metric {k}"] = (m.get("value"), tuple(m["ci"]) if m.get("ci") else None)
    for k, t in d.get("tables", {}).items():
        out[f"{prefix}table {k}"] = json.dumps(t.get("rows"), sort_keys=True)
    for k, n in (d.get("flags") or {}).get("counts", {}).items():
        out[f"{prefix}flags {k}"] = n
    for i, s in enumerate(d.get("sections", [])):
        out.update(_figures(s, f"{prefix}section {i} "))
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return all(_same(x, y) for x, y in zip(a, b))
    return a == b


def compare(old: Path, new: Path) -> int:
    moved = 0
    for p in sorted(old.rglob("*.json")):
        q = new / p.relative_to(old)
        if not q.exists():
            print(f"MISSING {q}")
            moved += 1
            continue
        fa, fb = _figures(json.loads(p.read_text())), _figures(json.loads(q.read_text()))
        for k in sorted(set(fa) | set(fb)):
            if k not in fb:
                print(f"{p.relative_to(old)}: {k} gone (was {fa[k]!r:.80})")
                moved += 1
            elif k not in fa:
                print(f"{p.relative_to(old)}: {k} new ({fb[k]!r:.80})")
            elif not _same(fa[k], fb[k]):
                print(f"{p.relative_to(old)}: {k} moved {fa[k]!r:.80} -> {fb[k]!r:.80}")
                moved += 1
    print(f"{moved} figures moved or gone")
    return 1 if moved else 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "run":
        run(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        print(__doc__)
        sys.exit(2)
