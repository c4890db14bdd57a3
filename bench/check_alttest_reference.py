"""Our Alt-Test figures against the reference implementation, on every data set of its release.

Usage: python bench/check_alttest_reference.py ALTTEST_CHECKOUT
(a checkout of github.com/nitaytech/AltTest: its notebook ``alt_test_example.ipynb`` holds the reference
``alt_test``; its ``data/<set>/{human,llm}_annotations.json`` the annotations; nothing is copied here).
Each LLM of each set is run through ``artifactlens.audit("labels", human_annotations=, llm_annotations=)``
with the set's scoring function and epsilon from the notebook; the winning rate and the advantage
probability must equal the reference's to 3 decimals. Exit 1 on any difference.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import artifactlens as al

# the notebook's own table: set -> (scoring function, epsilon)
SETS = {"wax": ("accuracy", 0.1), "lgbteen": ("accuracy", 0.2), "mtbench": ("accuracy", 0.2),
        "framing": ("accuracy", 0.15), "cebab_aspects": ("accuracy", 0.1), "summeval": ("neg_rmse", 0.2),
        "10k_prompts": ("neg_rmse", 0.15), "cebab_stars": ("neg_rmse", 0.1), "lesion": ("neg_rmse", 0.15)}


def reference(repo: Path):
    nb = json.loads((repo / "alt_test_example.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    ns: dict = {}
    exec(cells[0] + "\n" + cells[1], ns)  # imports, then the functions (alt_test, by_procedure, ...)
    return ns["alt_test"]


def main(repo: Path) -> int:
    alt_test, diffs, n = reference(repo), 0, 0
    for ds, (metric, eps) in SETS.items():
        h, l = repo / "data" / ds / "human_annotations.json", repo / "data" / ds / "llm_annotations.json"
        if not (h.exists() and l.exists()):
            print(f"{ds}: not in the checkout, skipped")
            continue
        hum, llms = json.loads(h.read_text()), json.loads(l.read_text())
        r = al.audit("labels", None, human_annotations=str(h), llm_annotations=str(l), alt_epsilon=eps,
                     alt_metric=metric, label_type="numeric" if metric == "neg_rmse" else "categorical",
                     annotator_quality=False, second_order=False, run=al.RunOptions(quiet=True))
        for name, ann in llms.items():
            with contextlib.redirect_stdout(io.StringIO()):
                wr, ap = alt_test(ann, hum, metric, epsilon=eps)
            sec = next((s for s in r.sections if name in (s.title or "")), r) if r.sections else r
            ours = (sec.metrics["alt_test_winning_rate"].value, sec.metrics["alt_test_advantage_probability"].value)
            same = round(ours[0], 3) == round(wr, 3) and round(ours[1], 3) == round(ap, 3)
            diffs, n = diffs + (not same), n + 1
            print(f"{ds:14s} {name:16s} reference wr={wr:.3f} rho={ap:.3f} | artifactlens wr={ours[0]:.3f} "
                  f"rho={ours[1]:.3f} {'same' if same else 'DIFFERENT'}")
    print(f"{n} LLM x data-set pairs, {diffs} different")
    return 1 if diffs or not n else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
