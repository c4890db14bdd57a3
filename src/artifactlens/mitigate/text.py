"""Free text has no mechanical fix: ``advice`` (:class:`NoMechanicalFix`) says so and points at what the
audit found (the phrases the LLM over-uses, the subgroups where it differs most, the features past their
marks), so a person can rewrite the prompts or the texts. Nothing is written; the command exits 0.
"""
from __future__ import annotations

from .base import Context, Mitigation, register


@register
class NoMechanicalFix(Mitigation):
    kind = "text"
    name = "advice"
    reason = ("no mechanical fix for LLM free text: rewriting it changes what was measured; change the prompts "
              "(ask for the register, length and wording of the human texts) or have people edit the texts")
    advice_only = True

    @staticmethod
    def audit_options(r) -> dict:
        return {}

    def advice(self, ctx: Context) -> str:
        r = ctx.before
        lines = [f"text: {self.reason}."]
        multi = (r.tables.get("phrases_llm_multiword") or {}).get("rows") or []
        single = (r.tables.get("phrases_llm") or {}).get("rows") or []
        top = [str(x[0]) for x in (multi[:8] or single[:8])]
        if top:
            lines.append("phrases the LLM over-uses (log-odds z): " + ", ".join(f"'{p}'" for p in top))
        dom = (r.tables.get("domain_effects") or {}).get("rows") or []
        dom = sorted((x for x in dom if isinstance(x[3], (int, float))), key=lambda x: -abs(x[3]))[:5]
        if dom:
            lines.append("subgroups where it differs most (domain, feature, Cohen's d): "
                         + "; ".join(f"{x[0]} {x[1]} d = {x[3]:.2f}" for x in dom))
        bad = [f.message for f in r.findings if f.severity in ("warning", "critical")][:6]
        if bad:
            lines.append("findings: " + " | ".join(bad))
        return "\n".join(lines)
