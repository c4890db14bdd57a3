"""Mitigations of LLM labels that collapse human disagreement.

- ``soft`` (:class:`SoftLabels`): where an item has human labels, its LLM label list is replaced by the
  human distribution (the human labels themselves, so the audit reads the same column; a ``soft_label``
  column gives the distribution as ``{label: share}``), the soft-label training target of learning from
  disagreement (Uma et al. 2021, "Learning from Disagreement: A Survey"); items where the LLM erased the
  human minority view (the audit's ``llm_erases_minority`` flag) are routed to review
  (``mitigation = "review"``). With ``reweight``, a ``soft_label_reweighted`` column gives each label's
  share divided by its pooled human share, renormalised per item: a re-weighting for training that gives
  minority labels more mass, stated as such, not a measured figure.

Cells are read with :func:`artifactlens.io.conventions.parse_label_list` (as the audit reads them) and
written back as JSON lists in a text column (native lists in a list column).
"""
from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa

from ..errors import InputError
from ..io.conventions import normalise_label, parse_label_list
from .base import Context, Mitigated, Mitigation, column, register, replace


def _labels(cell) -> list:
    out = []
    for v in parse_label_list(cell):
        x = normalise_label(v)
        if x is not None:
            out.append(x)
    return out


def _minority(c: Counter) -> list:
    if not c or len(set(c.values())) == 1:
        return []
    low = min(c.values())
    return sorted((str(k) for k, n in c.items() if n == low))


@register
class SoftLabels(Mitigation):
    kind = "labels"
    name = "soft"
    reason = "soft label from the human distribution (the LLM labels replaced where people labelled the item)"
    targets = (("minority_erasure_rate", "down"), ("majority_match_rate", "up"), ("llm_overconfident_rate", "down"))

    @staticmethod
    def audit_options(r) -> dict:
        p = r.params
        if p.get("format", "wide") != "wide" or not p.get("human"):
            raise InputError("mitigate labels needs the wide layout (one item a row, --human and --llm columns)",
                             expected="a result of `artifactlens audit labels FILE --human COL --llm COL`")
        llm = p.get("llm")
        opts = {"text": p.get("text"), "human": p["human"], "llm": llm if isinstance(llm, list) else [llm],
                "id": p.get("id"), "domain": p.get("domain"), "alpha_level": p.get("alpha_level", "nominal")}
        so = p.get("second_order")
        if not so or (isinstance(so, dict) and so.get("enabled") is False):
            opts["second_order"] = False
        return {k: v for k, v in opts.items() if v is not None}

    def apply(self, ctx: Context) -> Mitigated:
        t, o = ctx.table, ctx.options
        human = [_labels(c) for c in column(t, o["human"], ctx.path)]
        erased = [False] * t.num_rows
        if ctx.flags is not None:
            for name in ctx.flags.column_names:
                if name.startswith("llm_erases_minority") and not name.endswith(("_score", "_reason")):
                    erased = [e or bool(v) for e, v in zip(erased, ctx.flags.column(name).to_pylist())]
        for col in o["llm"]:
            cells = column(t, col, ctx.path)
            native = pa.types.is_list(t.schema.field(col).type) or pa.types.is_large_list(t.schema.field(col).type)
            new = [(h if native else json.dumps(h, ensure_ascii=False)) if h else c for c, h in zip(cells, human)]
            t = replace(t, col, new, type=None if native else pa.string())
        soft = []
        pooled = Counter()
        for h in human:
            pooled.update(h)
        total = sum(pooled.values()) or 1
        rew = []
        for h in human:
            c = Counter(h)
            n = sum(c.values())
            soft.append(json.dumps({str(k): round(v / n, 6) for k, v in sorted(c.items(), key=lambda kv: str(kv[0]))})
                        if n else None)
            w = {str(k): v / n / (pooled[k] / total) for k, v in c.items()} if n else {}
            s = sum(w.values())
            rew.append(json.dumps({k: round(v / s, 6) for k, v in sorted(w.items())}) if n else None)
        extra = {"soft_label": soft, **({"soft_label_reweighted": rew} if ctx.settings.get("reweight") else {})}
        for name, values in extra.items():
            if name in t.column_names:  # a file mitigated before: its soft labels are recomputed
                t = t.drop_columns([name])
            t = t.append_column(name, pa.array(values, type=pa.string()))
        action, why = [], []
        for h, e in zip(human, erased):
            if not h:
                action.append(None)
                why.append(None)
                continue
            action.append("review" if e else "soft label")
            base = f"{self.reason}: {json.dumps(dict(Counter(map(str, h))), ensure_ascii=False)}"
            if e:
                base += ("; the LLM gave no label in the human minority set "
                         f"({', '.join(_minority(Counter(map(str, h))))}): route to a person")
            why.append(base)
        notes = []
        if ctx.settings.get("reweight"):
            notes.append("soft_label_reweighted: each label's human share divided by its pooled human share and "
                         "renormalised per item, a re-weighting for training that favours minority labels; it is "
                         "not a measured figure and the audit does not read it")
        return Mitigated(t, action, why, notes=notes)
