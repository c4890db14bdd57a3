"""Read human and LLM texts into one table: ``text``, ``source`` (human/llm), ``pair_id``, ``domain``, ``row``,
``model`` (which LLM wrote it, where a model column is given) and ``group`` (a user's ``--group`` column, e.g.
native / non-native writers, for the separability's false-positive rates by subgroup).

Understood without flags:

- long format: one text per row with a ``source`` column (``human`` / ``llm``; also machine, ai, model,
  generated, chatgpt, gpt... -> llm);
- HC3 (``question``, ``human_answers``, ``chatgpt_answers`` lists): one row per answer, paired by question;
- wide pairs (``human_text`` and ``machine_text`` columns, as in M4): one row per side, paired by row;
  a ``source`` column there names the domain;
- index-paired lists (``{"original": [...], "sampled": [...]}``, as in Fast-DetectGPT's raw data);
- two files (``--human FILE --llm FILE``), each with a text column, paired by the pair column if present.

``row`` is the input row (0-based) a text came from. Rows without text are skipped and counted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import InputError
from ...io.readers import open_source, require_columns
from ...result import InputInfo
from ..common import input_info

LLM_NAMES = {"llm", "machine", "ai", "model", "generated", "synthetic", "chatgpt", "gpt", "gpt-3.5", "gpt-4",
             "gpt4", "gpt3", "llama", "bot", "assistant", "1", "true"}
HUMAN_NAMES = {"human", "humans", "person", "people", "crowd", "original", "0", "false", "gold"}


def normalise_source(v) -> str | None:
    if v is None:
        return None
    s = str(v).strip().lower()
    if s in HUMAN_NAMES:
        return "human"
    if s in LLM_NAMES or s.startswith(("gpt", "llama", "claude", "mistral")):
        return "llm"
    return None


COLUMNS = ["text", "source", "pair_id", "domain", "row", "model", "group"]


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def _from_records(src, domain_col: str) -> pd.DataFrame | None:
    """HC3 or index-paired lists, or None when the records are in neither shape."""
    if src.format not in ("json", "jsonl"):
        return None
    it = iter(src.records())
    first = next(it, None)
    if first is None or not isinstance(first[1], dict):
        return None
    obj = first[1]
    rows: list[dict] = []
    if isinstance(obj.get("original"), list) and isinstance(obj.get("sampled"), list):
        n = 0
        for _, o in [first, *it]:
            for side, src_name in (("original", "human"), ("sampled", "llm")):
                for j, t in enumerate(o.get(side) or []):
                    rows.append({"text": t, "source": src_name, "pair_id": f"{n}:{j}", "domain": None, "row": j})
            n += 1
        src.rows_read = len(rows)
        return _frame(rows)
    if "human_answers" in obj and "chatgpt_answers" in obj:
        count = 0
        for k, (where, o) in enumerate([first, *it]):
            count += 1
            pid = str(o.get("id", k))
            dom = o.get(domain_col, o.get("source"))
            for side, name in (("human_answers", "human"), ("chatgpt_answers", "llm")):
                answers = o.get(side) or []
                if isinstance(answers, str):
                    answers = [answers]
                for t in answers:
                    rows.append({"text": t, "source": name, "pair_id": pid, "domain": dom, "row": k})
        src.rows_read = count
        return _frame(rows)
    return None


def load_corpus(path=None, human=None, llm=None, text: str = "text", source: str = "source",
                pair: str = "pair_id", domain: str = "domain", encoding: str = "utf-8",
                batch_size: int = 8192, model: str = "model",
                group: str | None = None) -> tuple[pd.DataFrame, InputInfo, str]:
    """The normalised table, the input bookkeeping and the layout found (long, hc3, wide, lists, two-files).
    A ``group`` column named but absent is an :class:`InputError`; an absent model column is no model."""
    if isinstance(path, pd.DataFrame):
        if group is not None:
            require_columns(list(path.columns), {"--group": group}, "DataFrame")
        df = path.rename(columns={text: "text", source: "source", pair: "pair_id", domain: "domain", model: "model",
                                  **({group: "group"} if group else {})})
        require_columns(list(df.columns), {"--text": "text", "--source": "source"}, "DataFrame")
        df = df.assign(row=np.arange(len(df)))
        for c in ("pair_id", "domain", "model", "group"):
            if c not in df:
                df[c] = None
        info = InputInfo(path="<DataFrame>", format="pandas", rows_read=len(df))
        return _clean(df[COLUMNS], info), info, "long"
    if path is None and (human is None or llm is None):
        raise InputError("give FILE, or both --human FILE and --llm FILE", expected="a corpus to audit")
    if path is None:
        parts, infos = [], []
        for name, p in (("human", human), ("llm", llm)):
            src = open_source(p, encoding=encoding, batch_size=batch_size)
            tab = pd.concat([b.to_pandas() for b in src.batches()], ignore_index=True)
            require_columns(list(tab.columns), {"--text": text}, src.path)
            parts.append(pd.DataFrame({"text": tab[text], "source": name,
                                       "pair_id": tab[pair] if pair in tab else None,
                                       "domain": tab[domain] if domain in tab else None,
                                       "row": np.arange(len(tab)), **_extra(tab, model, group, src.path)}))
            infos.append(input_info(src))
        info = infos[0]
        info.path = f"{human} + {llm}"
        info.sha256 = f"{infos[0].sha256}+{infos[1].sha256}"
        info.rows_read = infos[0].rows_read + infos[1].rows_read
        return _clean(pd.concat(parts, ignore_index=True), info), info, "two-files"
    src = open_source(path, encoding=encoding, batch_size=batch_size)
    df = _from_records(src, domain)
    if df is not None:
        info = input_info(src)
        return _clean(df, info), info, "records"
    tab = pd.concat([b.to_pandas() for b in src.batches()], ignore_index=True)
    info = input_info(src)
    cols = list(tab.columns)
    if "human_text" in cols and "machine_text" in cols and text not in cols:
        dom = tab[domain] if domain in cols else (tab["source"] if "source" in cols else None)
        pid = tab[pair] if pair in cols else pd.Series(np.arange(len(tab))).astype(str)
        extra = _extra(tab, model, group, src.path)
        parts = [pd.DataFrame({"text": tab[c], "source": s, "pair_id": pid, "domain": dom,
                               "row": np.arange(len(tab)), **extra, **({"model": None} if s == "human" else {})})
                 for c, s in (("human_text", "human"), ("machine_text", "llm"))]
        return _clean(pd.concat(parts, ignore_index=True), info), info, "wide"
    require_columns(cols, {"--text": text, "--source": source}, src.path)
    df = pd.DataFrame({"text": tab[text], "source": tab[source], "pair_id": tab[pair] if pair in cols else None,
                       "domain": tab[domain] if domain in cols else None, "row": np.arange(len(tab)),
                       **_extra(tab, model, group, src.path)})
    return _clean(df, info), info, "long"


def _extra(tab: pd.DataFrame, model: str, group: str | None, path) -> dict:
    """The model and group columns of a read table (None where absent; a named group must be there)."""
    if group is not None:
        require_columns(list(tab.columns), {"--group": group}, path)
    return {"model": tab[model] if model in tab else None, "group": tab[group] if group else None}


def _clean(df: pd.DataFrame, info: InputInfo) -> pd.DataFrame:
    df = df.copy()
    df["source"] = [s if s in ("human", "llm") else normalise_source(s) for s in df["source"]]
    bad_source = df["source"].isna()
    txt = df["text"]
    empty = txt.isna() | (txt.astype(str).str.strip() == "")
    if (bad_source & ~empty).any():
        info.skip("source is neither human nor llm", int((bad_source & ~empty).sum()))
    if empty.any():
        info.skip("empty text", int(empty.sum()))
    df = df[~bad_source & ~empty].reset_index(drop=True)
    df["text"] = df["text"].astype(str)
    for c in ("pair_id", "domain", "model", "group"):  # object columns: None stays None (not a NaN string)
        df[c] = pd.Series([None if (d is None or (isinstance(d, float) and np.isnan(d))) else str(d) for d in df[c]],
                          index=df.index, dtype=object)
    info.rows_used = len(df)
    if df.empty:
        raise InputError("no usable texts (all empty or with an unknown source)", path=info.path,
                         expected="texts with source human or llm")
    if df["source"].nunique() < 2:
        raise InputError(f"only {df['source'].iloc[0]} texts found", path=info.path, column="source",
                         expected="both human and llm texts")
    has_word = df["text"].str.contains(r"\w", regex=True)
    for side in ("human", "llm"):
        if not has_word[df["source"] == side].any():
            raise InputError(f"no {side} text has a word (only spaces, punctuation or symbols)", path=info.path,
                             column="text", expected=f"{side} texts with words")
    return df
