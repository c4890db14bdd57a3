"""Model families: which models count as the judge's own family (self- and family-bias).

``--family-map`` gives them explicitly: ``NAME=FAMILY`` pairs separated by commas
(``gpt-4o=openai,claude-3-opus=anthropic``), or a path to a two-column CSV/TSV file (name, family).
Names not in the map, or every name without one, follow the **name rule**: lower-case the name, drop an
organisation prefix (``openai/``, ``meta-llama/``), take the leading letters (``gpt-4o-mini`` -> ``gpt``,
``llama-2-13b`` -> ``llama``, ``claude3`` -> ``claude``), then the aliases in :data:`ALIASES` (ChatGPT and
InstructGPT are ``gpt``; ``o1``/``o3`` are ``gpt``). Two models are of one family when their families match.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from ...errors import InputError

ALIASES = {"chatgpt": "gpt", "instructgpt": "gpt", "o": "gpt", "davinci": "gpt", "text": "gpt",
           "bard": "gemini", "palm": "gemini", "llamav": "llama", "codellama": "llama", "mixtral": "mistral"}
_LEAD = re.compile(r"[a-z]+")


def name_rule(name) -> str:
    s = str(name or "").strip().lower()
    s = s.rsplit("/", 1)[-1]
    m = _LEAD.match(s)
    base = m.group(0) if m else s
    return ALIASES.get(base, base)


def parse_family_map(spec) -> dict[str, str]:
    """``{lower-cased name: family}`` from ``NAME=FAMILY,...`` or a CSV/TSV path; {} for None."""
    if not spec:
        return {}
    p = Path(str(spec))
    if "=" not in str(spec) and p.exists():
        text = p.read_text(encoding="utf-8-sig")
        dialect = "excel-tab" if "\t" in text.splitlines()[0] else "excel"
        out = {}
        for i, row in enumerate(csv.reader(text.splitlines(), dialect=dialect), 1):
            if not row or (i == 1 and [c.strip().lower() for c in row[:2]] == ["name", "family"]):
                continue
            if len(row) < 2:
                raise InputError("a family-map row without a family", path=p, line=i, expected="name,family")
            out[row[0].strip().lower()] = row[1].strip().lower()
        return out
    out = {}
    for part in str(spec).split(","):
        if "=" not in part:
            raise InputError(f"--family-map: '{part}' is not NAME=FAMILY",
                             expected="NAME=FAMILY pairs such as gpt-4o=openai, or a CSV file name,family")
        k, v = part.split("=", 1)
        out[k.strip().lower()] = v.strip().lower()
    return out


def family(name, fmap: dict | None = None) -> str:
    key = str(name or "").strip().lower()
    if fmap and key in fmap:
        return fmap[key]
    return name_rule(name)
