"""Public conventions understood without flags.

- label lists written into a CSV cell, ``"[3.0, 4.0, nan]"`` or ``"['a', 'b']"`` or a JSON list, parsed
  without ``eval``; ``nan``/``None``/``null``/empty mean a missing annotation;
- pairwise choices: ``a``/``b``/``tie``, ``model_a``/``model_b``/``tie``/``tie (inconsistent)`` (the
  MT-Bench human-judgment release), ``0``/``1``/``2`` read as first/second/tie, and a user ``--codes``
  mapping such as ``0=tie,1=a,2=b``.
"""
from __future__ import annotations

import json
import math
import re

MISSING_TOKENS = {"", "nan", "none", "null", "na", "n/a", "<na>"}

_TOKEN = re.compile(r"""\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([^,]+?))\s*(?:,|$)""")


MAX_INT_DIGITS = 64  # a longer integer label is an error, not a float that overflows or rounds
_INT = re.compile(r"^[+-]?\d+$")


def normalise_label(v, missing=MISSING_TOKENS):
    """One label, the same however it was quoted or typed (the one rule of every reader):

    - missing (``None``): ``None``, NaN, and text that is blank or one of ``missing`` (default
      :data:`MISSING_TOKENS`: ``nan``, ``none``, ``null``, ``na``, ``n/a``, ``<na>``, any case);
    - a number, whether typed (``1``, ``1.0``, ``True``) or written as text (``"1"``, ``'1'``, ``" 1 "``):
      a float (``1``, ``1.0`` and ``'1'`` are one class), except an integer beyond 2**53, which stays an
      exact ``int`` (two such integers never merge); an integer of more than :data:`MAX_INT_DIGITS`
      digits raises ``ValueError``;
    - any other text, stripped of surrounding white space.
    """
    if v is None:
        return None
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int):
        return _int_label(v)
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if hasattr(v, "item") and getattr(v, "ndim", None) == 0:  # numpy scalars
        return normalise_label(v.item(), missing)
    s = str(v).strip()
    if s == "" or s.lower() in missing:
        return None
    if _INT.match(s):
        digits = len(s.lstrip("+-"))
        if digits > MAX_INT_DIGITS:
            raise ValueError(f"an integer label of {digits} digits (at most {MAX_INT_DIGITS})")
        return _int_label(int(s))
    try:
        f = float(s)
    except ValueError:
        return s
    return None if math.isnan(f) else f


def _int_label(v: int):
    if abs(v) <= 2**53:
        return float(v)
    if len(str(abs(v))) > MAX_INT_DIGITS:
        raise ValueError(f"an integer label of {len(str(abs(v)))} digits (at most {MAX_INT_DIGITS})")
    return v


def parse_label_list(cell) -> list:
    """Parse one cell holding a list of labels; returns a list with ``None`` for missing ones.

    Accepts a Python/JSON-style list string, an actual list, or a scalar (a one-label list).
    Raises ``ValueError`` with a short reason when the text is not a list.
    """
    if cell is None:
        return []
    if isinstance(cell, (list, tuple)):
        return [normalise_label(v) for v in cell]
    if isinstance(cell, float) and math.isnan(cell):
        return []
    if not isinstance(cell, str):
        return [normalise_label(cell)]
    s = cell.strip()
    if not s:
        return []
    if s[0] not in "[(":
        if s.lower() in MISSING_TOKENS:
            return []
        return [normalise_label(s)]
    close = {"[": "]", "(": ")"}[s[0]]
    if not s.endswith(close):
        raise ValueError(f"a list that is not closed: {s[:40]!r}")
    try:
        v = json.loads(s) if s[0] == "[" else None
        if isinstance(v, list) and all(not isinstance(x, (list, dict)) for x in v):
            return [normalise_label(x) for x in v]
    except (json.JSONDecodeError, RecursionError):  # too deep for json: the token parser refuses nesting
        pass
    body = s[1:-1].strip()
    if not body:
        return []
    out, pos = [], 0
    while pos < len(body):
        m = _TOKEN.match(body, pos)
        if not m or m.end() == pos:
            raise ValueError(f"a list item that does not parse at {body[pos:pos + 20]!r}")
        if m.group(3) is not None:  # unquoted: brackets mean a nested list (quoted labels may hold any)
            if any(ch in m.group(3) for ch in "[]{}()"):
                raise ValueError(f"a nested list: {s[:40]!r}")
            out.append(normalise_label(m.group(3)))
        else:
            q = "'" if m.group(1) is not None else '"'
            out.append(normalise_label(_unquote(q + (m.group(1) if q == "'" else m.group(2)) + q)))
        pos = m.end()
    return out


def _unquote(literal: str) -> str:
    """A quoted Python/JSON string literal's text (escapes such as \\' resolved); literal parsing, no eval."""
    import ast
    try:
        v = ast.literal_eval(literal)
        return v if isinstance(v, str) else literal[1:-1]
    except (ValueError, SyntaxError):
        return literal[1:-1]


CHOICES = ("a", "b", "tie", "inconsistent")
_DEFAULT_CODES = {
    "a": "a", "model_a": "a", "response_a": "a", "output_a": "a", "output (a)": "a", "first": "a", "0": "a",
    "a>b": "a", "1st": "a",
    "b": "b", "model_b": "b", "response_b": "b", "output_b": "b", "output (b)": "b", "second": "b", "1": "b",
    "b>a": "b", "2nd": "b",
    "tie": "tie", "draw": "tie", "equal": "tie", "2": "tie", "a=b": "tie", "tie (bothbad)": "tie",
    "tie (both bad)": "tie", "both": "tie", "neither": "tie",
    "tie (inconsistent)": "inconsistent", "inconsistent": "inconsistent",
}


def parse_codes(spec: str | None) -> dict[str, str]:
    """``"0=tie,1=a,2=b"`` -> ``{"0": "tie", "1": "a", "2": "b"}``; values must be a/b/tie/inconsistent."""
    if not spec:
        return {}
    out = {}
    for part in spec.split(","):
        if "=" not in part:
            raise ValueError(f"'{part}' is not CODE=CHOICE")
        k, v = (x.strip().lower() for x in part.split("=", 1))
        if v not in CHOICES:
            raise ValueError(f"'{v}' is not one of {', '.join(CHOICES)}")
        out[_canon_code(k)] = v
    return out


def _canon_code(v) -> str:
    s = str(v).strip().lower()
    try:
        f = float(s)
        if f.is_integer():
            return str(int(f))
    except ValueError:
        pass
    return s


def parse_choice(value, codes: dict[str, str] | None = None) -> str | None:
    """Map one choice to ``a``/``b``/``tie``/``inconsistent``; ``None`` for a value outside the coding
    (an unparseable judge answer, an empty cell). ``codes`` (from :func:`parse_codes`) takes precedence."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    key = _canon_code(value)
    if codes and key in codes:
        return codes[key]
    if codes and key.isdigit():
        return None
    return _DEFAULT_CODES.get(key)
