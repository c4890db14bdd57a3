"""Re-executing the tasks whose answer can be checked mechanically (used by the incorrect-output detectors).

Each function takes one row's texts and returns ``(checked, wrong, reason)``: ``checked`` False means the
task could not be parsed (the row is not scored), ``wrong`` True means the output disagrees with the
recomputed answer. Only rows a vectorised prefilter selected reach these functions (a few per cent), so
plain Python is fine here. Arithmetic is evaluated by walking :mod:`ast` (no ``eval``); Python code is
checked with :func:`ast.parse`; other languages only for balanced brackets.
"""
from __future__ import annotations

import ast
import json
import math
import operator
import re
from functools import lru_cache

_NUM = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?")
_WORDNUM = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                       "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}


_LETTERS = re.compile(r"[a-z]+")


def numbers(text: str) -> list[float]:
    """Every number written in ``text`` (digits with optional thousands commas, or number words to 20)."""
    out = [float(m.replace(",", "")) for m in _NUM.findall(text)]
    out += [float(_WORDNUM[w]) for w in _LETTERS.findall(text.lower()) if w in _WORDNUM]
    return out


def _close(a: float, b: float, rel: float = 0.01, abs_: float = 0.011) -> bool:
    return abs(a - b) <= max(abs_, rel * abs(b))


# -- arithmetic ------------------------------------------------------------------------------------
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}
_EXPR = re.compile(r"[-(]*\d[\d.,]*(?:\s*[-+*/^×÷%]\s*[-(]*\d[\d.,]*\)*)+\)*")
_WORDOPS = [(r"\bplus\b", "+"), (r"\bminus\b", "-"), (r"\btimes\b", "*"), (r"\bmultiplied by\b", "*"),
            (r"\bdivided by\b", "/"), (r"\bto the power of\b", "^")]
_WORDOP_RE = re.compile("|".join(p for p, _ in _WORDOPS), re.I)
_WORDOP_MAP = {p.strip("\\b"): op for p, op in _WORDOPS}


def _eval(node):
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _eval(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(b) > 100:
            raise ValueError("exponent too large")
        return _OPS[type(node.op)](a, b)
    raise ValueError("not arithmetic")


_TIMES_X = re.compile(r"(?<=\d)\s+x\s+(?=\d)")
_UNKNOWN = re.compile(r"\d[a-z]\b|\b[a-z]\s*[-+*/^=]\s*[\d(]|[-+*/^=]\s*[a-z]\b")
_BINOP = re.compile(r"\d\s*[-+*/^×÷%]\s*[-(]*\d")


def arithmetic(task: str, output: str):
    """An explicit expression (``12 * (3 + 4)``, ``7 plus 5``) in the task, recomputed."""
    text = _WORDOP_RE.sub(lambda m: _WORDOP_MAP[m.group(0).lower()], task)
    text = _TIMES_X.sub(" * ", text)
    if _UNKNOWN.search(text):  # unknowns: not checked
        return False, False, ""
    cands = [m.group(0) for m in _EXPR.finditer(text) if _BINOP.search(m.group(0))]
    if not cands:
        return False, False, ""
    expr = max(cands, key=len)
    py = expr.replace(",", "").replace("×", "*").replace("÷", "/").replace("^", "**")
    try:
        val = _eval(ast.parse(py, mode="eval"))
    except (ValueError, SyntaxError, ZeroDivisionError, OverflowError, TypeError):
        return False, False, ""
    got = numbers(output)
    if not got or not math.isfinite(val):
        return False, False, ""
    if any(_close(g, val) for g in got):
        return True, False, ""
    return True, True, f"{expr.strip()} = {val:g}, the output says {got[-1]:g}"


# -- unit conversions ------------------------------------------------------------------------------
_UNITS = {  # unit -> (dimension, factor to the base unit)
    "km": ("len", 1000.0), "kilometer": ("len", 1000.0), "kilometre": ("len", 1000.0),
    "m": ("len", 1.0), "meter": ("len", 1.0), "metre": ("len", 1.0), "cm": ("len", 0.01),
    "centimeter": ("len", 0.01), "centimetre": ("len", 0.01), "mm": ("len", 0.001), "millimeter": ("len", 0.001),
    "mile": ("len", 1609.344), "mi": ("len", 1609.344), "foot": ("len", 0.3048), "feet": ("len", 0.3048),
    "ft": ("len", 0.3048), "inch": ("len", 0.0254), "inches": ("len", 0.0254), "yard": ("len", 0.9144),
    "kg": ("mass", 1.0), "kilogram": ("mass", 1.0), "g": ("mass", 0.001), "gram": ("mass", 0.001),
    "pound": ("mass", 0.45359237), "lb": ("mass", 0.45359237), "lbs": ("mass", 0.45359237),
    "ounce": ("mass", 0.028349523), "oz": ("mass", 0.028349523),
    "liter": ("vol", 1.0), "litre": ("vol", 1.0), "l": ("vol", 1.0), "ml": ("vol", 0.001),
    "milliliter": ("vol", 0.001), "gallon": ("vol", 3.785411784), "gal": ("vol", 3.785411784),
    "celsius": ("temp", "c"), "c": ("temp", "c"), "°c": ("temp", "c"), "fahrenheit": ("temp", "f"),
    "f": ("temp", "f"), "°f": ("temp", "f"), "kelvin": ("temp", "k"), "k": ("temp", "k"),
}
_UNIT_RE = "|".join(sorted((re.escape(u) + ("s?" if len(u) > 2 else "") for u in _UNITS), key=len, reverse=True))
_CONV = re.compile(rf"(-?\d+(?:\.\d+)?)\s*(?:degrees?\s*)?({_UNIT_RE})\b\.?\s+(?:to|into|in)\s+(?:degrees?\s*)?({_UNIT_RE})\b",
                   re.I)


_CONV_HINT = re.compile(r"\s(?:to|into|in)\s", re.I)  # every match of _CONV holds one


def _unit(u: str):
    u = u.lower()
    return _UNITS.get(u) or _UNITS.get(u[:-1])


def _temp(v: float, a: str, b: str) -> float:
    c = v if a == "c" else (v - 32) * 5 / 9 if a == "f" else v - 273.15
    return c if b == "c" else c * 9 / 5 + 32 if b == "f" else c + 273.15


def unit_conversion(task: str, output: str):
    """``Convert 5 km to miles``: the converted value recomputed (2 % tolerance)."""
    m = _CONV_HINT.search(task) and _CONV.search(task)  # the cheap necessary part first
    if not m:
        return False, False, ""
    v, ua, ub = float(m.group(1)), _unit(m.group(2)), _unit(m.group(3))
    if not ua or not ub or ua[0] != ub[0]:
        return False, False, ""
    val = _temp(v, ua[1], ub[1]) if ua[0] == "temp" else v * ua[1] / ub[1]
    got = [g for g in numbers(output)]
    if not got:
        return False, False, ""
    if any(_close(g, val, rel=0.02, abs_=0.06) for g in got):
        return True, False, ""
    return True, True, f"{m.group(0).strip()} is {val:.4g}, the output says {got[0]:g}"


# -- counting, sorting, reversing ------------------------------------------------------------------
_QUOTED, _AFTER_COLON = re.compile(r"[\"“']([^\"”']{2,})[\"”']"), re.compile(r":\s*(.+)$", re.S)
_ITEM_SEP = re.compile(r"\s*(?:,|;|\n|\band\b)\s*")


def target_text(instruction: str, inp: str) -> str | None:
    """The text a task operates on: the input, else a quoted span or what follows a colon."""
    if inp.strip():
        return inp.strip()
    q = _QUOTED.search(instruction)
    if q:
        return q.group(1)
    c = _AFTER_COLON.search(instruction)
    return c.group(1).strip() if c else None


def _items(text: str) -> list[str]:
    parts = _ITEM_SEP.split(text.strip().strip("[]{}().").strip())
    return [p.strip().strip("\"'“”.").strip() for p in parts if p.strip().strip("\"'“”.").strip()]


_COUNT_WHAT = re.compile(r"\b(?:how many|count(?: the number of)?)\s+(words|characters|letters|vowels|consonants|"
                         r"sentences|items|elements|numbers|times)\b")
_COUNT_TIMES = re.compile(r"(?:letter|character|word)\s+[\"'“]?(\w+)[\"'”]?")
_SENTENCE_END = re.compile(r"[.!?]+")
_VOWELS = frozenset("aeiouAEIOU")
_EXPECT = {  # what is counted -> the counts that pass (only the one asked for is computed)
    "words": lambda t: {len(t.split())},
    "characters": lambda t: {len(t), len(t.replace(" ", "")), sum(c.isalpha() for c in t)},
    "letters": lambda t: {sum(c.isalpha() for c in t)},
    "vowels": lambda t: {sum(c in _VOWELS for c in t)},
    "consonants": lambda t: {sum(c.isalpha() and c not in _VOWELS for c in t)},
    "sentences": lambda t: {len([s for s in _SENTENCE_END.split(t) if s.strip()])},
    "items": lambda t: {len(_items(t))}, "elements": lambda t: {len(_items(t))},
    "numbers": lambda t: {len(numbers(t))},
}


def count_task(instruction: str, inp: str, output: str):
    """``How many words/letters/vowels/items ...``: the count recomputed; any matching number passes."""
    low = instruction.lower()
    m = _COUNT_WHAT.search(low)
    text = target_text(instruction, inp)
    if not m or text is None:
        return False, False, ""
    what = m.group(1)
    if what == "times":
        q = _COUNT_TIMES.search(low)
        if not q:
            return False, False, ""
        expect = {text.lower().count(q.group(1))}
    else:
        expect = _EXPECT[what](text)
    got = numbers(output)
    if not got:
        return False, False, ""
    if any(g in expect for g in got):
        return True, False, ""
    return True, True, f"counting {what} gives {sorted(expect)[0]}, the output says {got[0]:g}"


@lru_cache(maxsize=4096)
def _item_re(item: str) -> re.Pattern:
    return re.compile(r"(?<![\w.])" + re.escape(item) + r"(?![\w])")


_DESC = re.compile(r"descending|decreasing|largest to smallest|highest to lowest|z to a|reverse alphabetical")


def sort_task(instruction: str, inp: str, output: str):
    """``Sort ... in ascending/alphabetical order``: items located in the output must appear sorted."""
    low = instruction.lower()
    desc = bool(_DESC.search(low))
    text = target_text(instruction, inp)
    if text is None:
        return False, False, ""
    items = _items(text)
    if len(items) < 2 or len(items) > 200:
        return False, False, ""
    try:
        keys = [float(i.replace(",", "")) for i in items]
    except ValueError:
        keys = [i.lower() for i in items]
    out_low = output.lower()
    pos = []
    for it in items:
        it = it.lower()
        mm = it in out_low and _item_re(it).search(out_low)  # substring test first: a miss costs no regex
        if not mm:
            return False, False, ""  # the output does not list the items: cannot check
        pos.append(mm.start())
    order = [k for _, k in sorted(zip(pos, keys))]
    if order == sorted(keys, reverse=desc):
        return True, False, ""
    return True, True, f"the items are not in {'descending' if desc else 'ascending'} order"


_REV_NORM = re.compile(r"[\s\"'“”.,\[\]]+")


def reverse_task(instruction: str, inp: str, output: str):
    """``Reverse the string/word/sentence/list``: character, word or item reversal must be in the output."""
    text = target_text(instruction, inp)
    if text is None:
        return False, False, ""
    norm = lambda s: _REV_NORM.sub(" ", s.lower()).strip()
    cands = {norm(text[::-1]), norm(" ".join(text.split()[::-1])), norm(", ".join(_items(text)[::-1]))}
    out = norm(output)
    if any(c and c in out for c in cands):
        return True, False, ""
    return True, True, f"reversing gives '{text[::-1][:40]}'"


# -- code ------------------------------------------------------------------------------------------
_FENCE = re.compile(r"```[ \t]*([\w+#-]*)[^\n]*\n(.*?)```", re.S)
_CODE_START = re.compile(r"^\s*(?:def |class |import |from \w+ import|for |while |if |print\b|return |#|\w+\s*=)")
_CLIKE = {"javascript", "js", "java", "c", "cpp", "c++", "csharp", "c#", "go", "rust", "typescript", "ts", "php",
          "swift", "kotlin", "scala"}


def _balanced(code: str) -> bool:
    code = re.sub(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|//[^\n]*|/\*.*?\*/", "", code, flags=re.S)
    stack, pairs = [], {")": "(", "]": "[", "}": "{"}
    for ch in code:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack


_PYTHON = re.compile(r"\bpython\b", re.I)


def code_parses(instruction: str, output: str):
    """Python code (fenced, or the whole output when it reads as code) must parse; C-like code must
    have balanced brackets. Returns the error in the reason."""
    wants_py = bool(_PYTHON.search(instruction))
    blocks = [(lang.lower(), code) for lang, code in _FENCE.findall(output)]
    if not blocks and wants_py and _CODE_START.match(output) and output.count("\n") >= 1:
        blocks = [("python", output)]
    if not blocks and output.count("```") % 2 == 1:
        return True, True, "an unclosed ``` code block"
    checked = False
    for lang, code in blocks:
        if lang in ("python", "py") or (lang == "" and wants_py):
            checked = True
            try:
                ast.parse(code)
            except SyntaxError as e:
                return True, True, f"Python that does not parse ({e.msg}, line {e.lineno})"
        elif lang in _CLIKE:
            checked = True
            if not _balanced(code):
                return True, True, f"{lang} code with unbalanced brackets"
        elif lang == "json":
            checked = True
            try:
                json.loads(code)
            except ValueError as e:
                return True, True, f"JSON that does not parse ({str(e)[:40]})"
    return checked, False, ""
