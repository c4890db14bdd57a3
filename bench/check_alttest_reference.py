"""Our Alt-Test figures against the reference implementation, on every data set of its release.

Usage: python bench/check_alttest_reference.py ALTTEST_CHECKOUT
(a checkout of github.com/nitaytech/AltTest, or its bare git directory, read with ``git show HEAD:path``:
its notebook ``alt_test_example.ipynb`` holds the reference ``alt_test``; its
``data/<set>/{human,llm}_annotations.json`` the annotations; nothing is copied into the project).
Each LLM of each set is run through ``artifactlens.audit("labels", human_annotations=, llm_annotations=)``
with the set's scoring function and epsilon from the notebook; the winning rate and the advantage
probability must equal the reference's to 3 decimals. Exit 1 on any difference.

KiloGram (free text; the notebook does not run it): the reference ``alt_test`` is called with a callable
``scoring_function``, its own ``sim`` with our pair similarity bound by ``functools.partial``
(``token_similarity``, and the MiniLM cosine of ``similarity``), at epsilon 0.1, 0.15 and 0.2, against
``--alt-metric token_similarity`` / ``similarity`` (and the default run, whose metric must be
``token_similarity``).
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import artifactlens as al
from artifactlens.audits.labels.alttest import similarity_function, token_similarity
from artifactlens.audits.labels.annotators import read_alt_test

# the notebook's own table: set -> (scoring function, epsilon)
SETS = {"wax": ("accuracy", 0.1), "lgbteen": ("accuracy", 0.2), "mtbench": ("accuracy", 0.2),
        "framing": ("accuracy", 0.15), "cebab_aspects": ("accuracy", 0.1), "summeval": ("neg_rmse", 0.2),
        "10k_prompts": ("neg_rmse", 0.15), "cebab_stars": ("neg_rmse", 0.1), "lesion": ("neg_rmse", 0.15)}


FREE_TEXT = {"kilogram": ("token_similarity", "similarity")}
FREE_TEXT_EPS = (0.1, 0.15, 0.2)


class Release:
    """The reference's files, from a checkout or from a bare git directory (``git show HEAD:path``); a set's
    two files are written to a temporary folder outside the project when there is no work tree."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.tmp = tempfile.TemporaryDirectory(prefix="alttest_ref_")

    def text(self, rel: str) -> str | None:
        if (self.repo / rel).exists():
            return (self.repo / rel).read_text()
        got = subprocess.run(["git", "-C", str(self.repo), "show", f"HEAD:{rel}"], capture_output=True, text=True)
        return got.stdout if got.returncode == 0 else None

    def path(self, rel: str) -> Path | None:
        if (self.repo / rel).exists():
            return self.repo / rel
        t = self.text(rel)
        if t is None:
            return None
        p = Path(self.tmp.name) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(t)
        return p


def reference(rel: Release) -> dict:
    nb = json.loads(rel.text("alt_test_example.ipynb"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    ns: dict = {}
    exec(cells[0] + "\n" + cells[1], ns)  # imports, then the functions (alt_test, sim, by_procedure, ...)
    return ns


def _section(r, name):
    return next((s for s in r.sections if s.params.get("model_name") == name), r) if r.sections else r


def _compare(ds, label, name, ref, sec) -> bool:
    ours = (sec.metrics["alt_test_winning_rate"].value, sec.metrics["alt_test_advantage_probability"].value)
    wr, ap = ref
    same = round(ours[0], 3) == round(wr, 3) and round(ours[1], 3) == round(ap, 3)
    print(f"{ds:14s} {label:24s} {name:16s} reference wr={wr:.3f} rho={ap:.3f} | artifactlens wr={ours[0]:.3f} "
          f"rho={ours[1]:.3f} {'same' if same else 'DIFFERENT'}")
    return same


def main(repo: Path) -> int:
    rel = Release(repo)
    ns = reference(rel)
    alt_test, diffs, n = ns["alt_test"], 0, 0
    for ds, (metric, eps) in SETS.items():
        h, l = rel.path(f"data/{ds}/human_annotations.json"), rel.path(f"data/{ds}/llm_annotations.json")
        if h is None or l is None:
            print(f"{ds}: not in the checkout, skipped")
            continue
        hum, llms = json.loads(h.read_text()), json.loads(l.read_text())
        r = al.audit("labels", None, human_annotations=str(h), llm_annotations=str(l), alt_epsilon=eps,
                     alt_metric=metric, label_type="numeric" if metric == "neg_rmse" else "categorical",
                     annotator_quality=False, second_order=False, run=al.RunOptions(quiet=True))
        for name, ann in llms.items():
            with contextlib.redirect_stdout(io.StringIO()):
                ref = alt_test(ann, hum, metric, epsilon=eps)
            same = _compare(ds, f"{metric} eps={eps:g}", name, ref, _section(r, name))
            diffs, n = diffs + (not same), n + 1
    print(f"{n} LLM x data-set pairs, {diffs} different")
    m, d2 = free_text(rel, ns)
    print(f"free text: {m} LLM x scorer x epsilon runs, {d2} different")
    return 1 if diffs or d2 or not n or not m else 0


def free_text(rel: Release, ns: dict) -> tuple[int, int]:
    """KiloGram: the reference alt_test with ``partial(sim, similarity_func=f)`` against ours."""
    n = diffs = 0
    for ds, metrics in FREE_TEXT.items():
        h, l = rel.path(f"data/{ds}/human_annotations.json"), rel.path(f"data/{ds}/llm_annotations.json")
        if h is None or l is None:
            print(f"{ds}: not in the checkout, skipped")
            continue
        hum, llms = json.loads(h.read_text()), json.loads(l.read_text())
        default = al.audit("labels", None, human_annotations=str(h), llm_annotations=str(l),
                           annotator_quality=False, second_order=False, run=al.RunOptions(quiet=True))
        chosen = {s.params["alt_test"]["metric"] for s in default.sections}
        print(f"{ds}: label type {default.sections[0].params['annotators']['label_type']}, default --alt-metric "
              f"{', '.join(sorted(chosen))}")
        diffs += chosen != {"token_similarity"}
        ann_obj = read_alt_test(h, l)
        pair = {"token_similarity": token_similarity}
        for metric in metrics:
            t0 = time.process_time()
            if metric == "similarity":
                pair[metric] = similarity_function(ann_obj)  # MiniLM cosine of two label strings
            f = functools.partial(ns["sim"], similarity_func=pair[metric])
            t_ref = t_ours = 0.0
            for eps in FREE_TEXT_EPS:
                t1 = time.process_time()
                r = default if (metric == "token_similarity" and eps == 0.15) else al.audit(
                    "labels", None, human_annotations=str(h), llm_annotations=str(l), alt_epsilon=eps,
                    alt_metric=metric, annotator_quality=False, second_order=False, run=al.RunOptions(quiet=True))
                t_ours += time.process_time() - t1
                for name, ann in llms.items():
                    t2 = time.process_time()
                    with contextlib.redirect_stdout(io.StringIO()):
                        ref = ns["alt_test"](ann, hum, f, epsilon=eps)
                    t_ref += time.process_time() - t2
                    same = _compare(ds, f"{metric} eps={eps:g}", name, ref, _section(r, name))
                    diffs, n = diffs + (not same), n + 1
            print(f"{ds} {metric}: CPU s, whole audits (ours, {len(FREE_TEXT_EPS)} runs) {t_ours:.1f}, reference "
                  f"alt_test ({len(FREE_TEXT_EPS) * len(llms)} calls) {t_ref:.1f}; embedding "
                  f"{(time.process_time() - t0 - t_ours - t_ref):.1f}")
    return n, diffs


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
