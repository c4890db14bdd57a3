"""Rules and metric declarations: the one language for thresholds.

A :class:`Rule` is ``op limit`` (``"<= 0.5"``); the CI gate's limits, a metric's warn/bad lights and a
detector's flag decision are all rules. A :class:`MetricSpec` declares one metric of an audit: what it
means, which direction is worse, where its lights turn, and whether it is a headline figure. An audit
lists its specs in ``Audit.metrics``; the inherited ``run()`` reads them into the result (lights in
``params['thresholds']``, the headline), and the report, findings, gate and datasheet read that.

This module imports nothing from the rest of the package: it sits below the report and the audits.
"""
from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq}
_RULE = re.compile(r"^\s*(<=|>=|==|<|>)\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$")
#: a limit beyond this is refused: no metric we compute is that large, and such text is a typo or an attack
MAX_ABS_LIMIT = 1e15


def _number(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Rule:
    """``value op limit``; ``holds(None)`` is False (a metric with no value never passes a rule)."""

    op: str
    limit: float

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"unknown comparison {self.op!r}; one of {', '.join(OPS)}")
        lim = _number(self.limit)
        if lim is None or abs(lim) > MAX_ABS_LIMIT:
            raise ValueError(f"limit must be a finite number of at most {MAX_ABS_LIMIT:g} in size, got {self.limit!r}")

    @classmethod
    def parse(cls, text) -> "Rule":
        """``"<= 0.5"``, ``{max = 0.5}`` or ``{min = 0.7}`` (the gate's TOML forms); ValueError otherwise."""
        if isinstance(text, dict) and len(text) == 1 and next(iter(text)) in ("max", "min"):
            (k, v), = text.items()
            if _number(v) is not None:
                return cls("<=" if k == "max" else ">=", float(v))
        if isinstance(text, str) and len(text) < 64 and (m := _RULE.match(text)):
            return cls(m.group(1), float(m.group(2)))
        raise ValueError(f"a rule is like \"<= 0.5\" or {{max = 0.5}}, got {text!r}")

    def holds(self, value) -> bool:
        v = _number(value)
        return v is not None and bool(OPS[self.op](v, self.limit))

    def __str__(self) -> str:
        return f"{self.op} {self.limit:g}"


HIGHER_IS_WORSE, LOWER_IS_WORSE = "higher_is_worse", "lower_is_worse"


@dataclass(frozen=True)
class MetricSpec:
    """One declared metric of an audit.

    ``worse``: ``"higher_is_worse"``, ``"lower_is_worse"`` or None (a descriptive figure, never lit).
    ``warn`` / ``bad``: where the light turns amber / red, on the worse side (None: no light).
    ``headline``: shown on the scorecard. ``description``: the one line a reader sees; the result's own
    description (set where the value is computed) is used when this is empty. ``pattern``: True when
    ``name`` is a prefix matched by per-model names such as ``minority_erasure_rate[gpt4]``.
    """

    name: str
    description: str = ""
    group: str | None = None
    worse: str | None = None
    warn: float | None = None
    bad: float | None = None
    headline: bool = False

    def __post_init__(self):
        if self.worse not in (None, HIGHER_IS_WORSE, LOWER_IS_WORSE):
            raise ValueError(f"{self.name}: worse must be higher_is_worse, lower_is_worse or None")
        if (self.warn is not None or self.bad is not None) and self.worse is None:
            raise ValueError(f"{self.name}: a metric with lights needs a direction (worse=...)")

    @classmethod
    def from_light(cls, name: str, light: dict, **kw) -> "MetricSpec":
        """The spec of a metric whose lights an audit module already declares as ``{"warn": x, "bad": y,
        "higher_is_worse": bool}`` (the shape of ``params['thresholds']``), so the values live in one place."""
        worse = HIGHER_IS_WORSE if light.get("higher_is_worse", True) else LOWER_IS_WORSE
        return cls(name, worse=worse, warn=light.get("warn"), bad=light.get("bad"), **kw)

    @property
    def higher_is_worse(self) -> bool:
        return self.worse != LOWER_IS_WORSE

    def rules(self) -> dict[str, Rule]:
        """The light rules: ``{"warn": Rule, "bad": Rule}`` for those set."""
        op = ">=" if self.higher_is_worse else "<="
        return {k: Rule(op, v) for k, v in (("warn", self.warn), ("bad", self.bad)) if v is not None}

    def light(self, value) -> str:
        """'bad' | 'warn' | 'ok' for a number, 'none' where there is no rule or no value."""
        rules = self.rules()
        if not rules or _number(value) is None:
            return "none"
        for level in ("bad", "warn"):
            if level in rules and rules[level].holds(value):
                return level
        return "ok"

    def severity(self, value) -> str | None:
        """The finding's severity where the light says so: 'critical' past ``bad``, 'warning' past ``warn``,
        else None (a finding and the light it names never disagree)."""
        return {"bad": "critical", "warn": "warning"}.get(self.light(value))

    def thresholds_entry(self) -> dict | None:
        """The ``params['thresholds'][name]`` entry the report reads (None where there are no lights)."""
        if self.warn is None and self.bad is None:
            return None
        return {"warn": self.warn, "bad": self.bad, "higher_is_worse": self.higher_is_worse}


@dataclass(frozen=True)
class MetricTable:
    """An audit's metrics, in scorecard order. ``spec(name)`` also finds ``name[model]`` by its base name."""

    specs: tuple[MetricSpec, ...] = field(default_factory=tuple)

    def __post_init__(self):
        names = [s.name for s in self.specs]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"metric declared twice: {sorted(dup)}")

    def __iter__(self):
        return iter(self.specs)

    def __len__(self):
        return len(self.specs)

    def __contains__(self, name: str) -> bool:
        return self.spec(name) is not None

    def spec(self, name: str) -> MetricSpec | None:
        base = name.split("[", 1)[0]
        for s in self.specs:
            if s.name == name or s.name == base:
                return s
        return None

    def headline(self) -> list[str]:
        return [s.name for s in self.specs if s.headline]

    def thresholds(self) -> dict[str, dict]:
        return {s.name: e for s in self.specs if (e := s.thresholds_entry()) is not None}
