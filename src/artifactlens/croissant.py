"""A Croissant 1.1 record of the audited data set, with the Responsible-AI vocabulary filled from the audit
(``artifactlens datasheet RESULT.json... -o DATASHEET.md --croissant croissant.json``).

Croissant (MLCommons; https://mlcommons.org/croissant/1.1) is the JSON-LD metadata format that Hugging Face,
Kaggle and OpenML serve for data sets; its RAI extension (``rai:``, Croissant RAI 1.0) holds the
documentation fields. This module writes the JSON-LD itself (a dict, no runtime dependency); the tests
validate what it writes with ``mlcroissant`` (MLCommons' reference implementation, a test dependency), the
same check as ``mlcroissant validate --jsonld FILE``.

What goes where:

- ``distribution``: one ``cr:FileObject`` per audited input file (``contentUrl`` relative to the record,
  ``sha256`` as measured by the audit, ``encodingFormat`` from the file's format);
- ``recordSet``: per audit, one record set whose fields are the columns that audit read (their data type
  from the file's Arrow schema where the file is at hand, else ``sc:Text``);
- ``rai:dataCollection``: how the data came about, as stated (model, date, prompt) and as read (rows read,
  used and skipped per file);
- ``rai:dataBiases``: every headline figure with its 95% interval and light, and every warning or critical
  finding, per audit;
- ``rai:dataLimitations``: what each audit cannot see, the general limits of the figures, the rows left
  out and the flags raised;
- ``rai:annotationsPerItem``: measured labels per item (labels audit: human and LLM labels over the items
  used; preferences: verdicts per pair);
- ``rai:machineAnnotationTools``: the LLM labellers and the judge model, where the results name them;
- ``prov:wasGeneratedBy``: the generating model as stated with ``--model``, and for judgments the judge
  model (``prov:Activity`` with a ``prov:SoftwareAgent``);
- ``subjectOf``: the audit results it came from (sha256 of each result's JSON, the artifactlens version).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Sequence

from ._version import __version__
from .datasheet import GENERAL_LIMITS, LIMITS, result_sha256
from .result import AuditResult

CROISSANT = "http://mlcommons.org/croissant/1.1"
RAI = "http://mlcommons.org/croissant/RAI/1.0"
# The JSON-LD @context of a Croissant 1.1 record (as mlcroissant writes it), plus PROV-O for provenance.
CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/", "prov": "http://www.w3.org/ns/prov#",
    "arrayShape": "cr:arrayShape", "citeAs": "cr:citeAs", "column": "cr:column", "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "examples": {"@id": "cr:examples", "@type": "@json"},
    "equivalentProperty": "cr:equivalentProperty", "extract": "cr:extract", "field": "cr:field",
    "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet", "format": "cr:format",
    "includes": "cr:includes", "isArray": "cr:isArray", "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath",
    "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
    "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
    "samplingRate": "cr:samplingRate", "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField",
    "transform": "cr:transform",
}
ENCODING = {"csv": "text/csv", "tsv": "text/tab-separated-values", "jsonl": "application/jsonlines",
            "json": "application/json", "parquet": "application/x-parquet"}
TABULAR = {"csv", "tsv", "jsonl", "parquet"}  # formats whose columns a record set can extract


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.3f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _figure(name: str, m, light: str | None) -> str:
    ci = f" [95% interval {_fmt(m.ci[0])}, {_fmt(m.ci[1])}]" if m.ci else ""
    n = f", n = {_fmt(m.n)}" if m.n is not None else ""
    return f"{name} = {_fmt(m.value)}{ci}{n}" + (f" ({light})" if light else "") + \
        (f": {m.description}" if m.description else "")


def _light(r: AuditResult, name: str, value) -> str | None:
    th = (r.params.get("thresholds") or {}).get(name)
    if not isinstance(th, dict) or not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    hi = th.get("higher_is_worse", True)
    past = lambda x: x is not None and (value >= x if hi else value <= x)  # noqa: E731
    return "past its bad mark" if past(th.get("bad")) else "past its warn mark" if past(th.get("warn")) else None


def _walk(r: AuditResult):
    yield r
    for s in r.sections:
        yield from _walk(s)


def _files(r: AuditResult) -> list[tuple[str, str | None, str | None]]:
    """``(path, sha256, format)`` of each input file of a result (the Alt-Test layout names two)."""
    i = r.input
    if not i.path:
        return []
    paths = [p.strip() for p in str(i.path).split(" + ")]
    shas = (i.sha256 or "").split("+") if i.sha256 else []
    out = []
    for k, p in enumerate(paths):
        fmt = (i.format or "").lower() if len(paths) == 1 else None
        ext = Path(p).suffix.lower().lstrip(".")
        fmt = fmt if fmt in ENCODING else ext if ext in ENCODING else None
        out.append((p, shas[k] if k < len(shas) and len(shas) == len(paths) else None, fmt))
    return out


def used_columns(r: AuditResult) -> list[str]:
    """The input columns an audit read, from its recorded options."""
    p = r.params
    if r.kind == "labels":
        cols = [p.get(k) for k in ("id", "text", "human", "domain", "model", "annotator", "label", "source")]
        cols += list(p.get("llm") or []) if p.get("format") == "wide" else []
    elif r.kind == "instructions":
        cols = [v for k, v in (p.get("layout") or {}).items() if k != "layout"]
    elif r.kind in ("preferences", "text"):
        cols = list((p.get("columns") or {}).values())
    else:
        cols = []
    return list(dict.fromkeys(c for c in cols if isinstance(c, str) and c))


def _types(path: Path) -> dict[str, str]:
    """Croissant data types of a file's columns from its Arrow schema (empty when it cannot be read)."""
    import pyarrow as pa

    from .errors import InputError
    from .io.readers import open_source
    try:
        batch = next(iter(open_source(path).batches()))
    except (InputError, OSError, StopIteration, ValueError):
        return {}
    out = {}
    for f in batch.schema:
        t = f.type
        out[f.name] = ("sc:Boolean" if pa.types.is_boolean(t) else "sc:Integer" if pa.types.is_integer(t) else
                       "sc:Float" if pa.types.is_floating(t) else "sc:Text")
    return out


def _rel(path: str, base: Path | None) -> str:
    if base is None:
        return Path(path).name
    try:
        return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive
        return Path(path).resolve().as_posix()


def _annotations_per_item(results: Sequence[AuditResult]) -> list[str]:
    out = []
    for top in results:
        for r in _walk(top):
            if r.kind == "labels" and "class_shares" in r.tables and r.input.rows_used:
                t = r.tables["class_shares"]
                cols = t["columns"]
                h, l_ = cols.index("human labels"), cols.index("LLM labels")
                nh = sum(row[h] or 0 for row in t["rows"])
                nl = sum(row[l_] or 0 for row in t["rows"])
                who = r.params.get("model_name") or ", ".join(r.params.get("llm") or []) or "LLM"
                out.append(f"labels ({who}): {nh / r.input.rows_used:.2f} human labels and "
                           f"{nl / r.input.rows_used:.2f} LLM labels per item on average ({nh:,} and {nl:,} labels "
                           f"on {r.input.rows_used:,} items)")
            elif r.kind == "preferences" and r is top:
                c = r.params.get("columns") or {}
                parts = ["one human verdict" if c.get("human") else None,
                         "one judge verdict" if c.get("judge") else None,
                         "one judge verdict with the responses swapped" if c.get("judge_swapped") else None]
                out.append(f"preferences: {', '.join(x for x in parts if x)} per pair "
                           f"({r.input.rows_used:,} pairs used)")
    return out


def _judges(results: Sequence[AuditResult]) -> list[tuple[str, str]]:
    """``(tool, what it did)`` for each machine annotator the results name."""
    out = []
    for top in results:
        if top.kind == "preferences" and top.params.get("judge_model"):
            out.append((str(top.params["judge_model"]), "the judge model of the pairwise judgments"))
        if top.kind == "labels":
            names = [s.params.get("model_name") for s in top.sections] or [top.params.get("model_name")]
            out += [(str(n), "an LLM labeller") for n in names if n]
    return list(dict.fromkeys(out))


def render_croissant(results: Sequence[AuditResult], name: str | None = None, model: str | None = None,
                     prompt: str | None = None, date: str | None = None, license: str | None = None,
                     base_dir=None) -> dict:
    """The Croissant 1.1 JSON-LD record (a dict) of the data set the ``results`` audited. ``model``,
    ``prompt``, ``date`` are as the user states them; ``base_dir`` is the record's folder (file URLs are
    relative to it)."""
    results = list(results)
    base = Path(base_dir) if base_dir is not None else None
    title = name or next((Path(f[0]).name for r in results for f in _files(r)), None) or "Synthetic dataset"
    hashes = [(r.kind, result_sha256(r)) for r in results]
    files, fids, record_sets = [], {}, []
    for r in results:
        for path, sha, fmt in _files(r):
            key = sha or path
            if key in fids:
                continue
            fid = f"file-{len(fids) + 1}"
            fids[key] = (fid, path, fmt)
            fo = {"@type": "cr:FileObject", "@id": fid, "name": Path(path).name, "contentUrl": _rel(path, base),
                  "encodingFormat": ENCODING.get(fmt or "", "application/octet-stream")}
            if sha:
                fo["sha256"] = sha
            files.append(fo)
    for r in results:
        cols = used_columns(r)
        fl = _files(r)
        if not cols or len(fl) != 1 or fl[0][2] not in TABULAR:
            continue
        path, sha, fmt = fl[0]
        fid = fids[sha or path][0]
        types = _types(Path(path)) if Path(path).is_file() else {}
        same = sum(1 for x in record_sets if x["@id"].split("-")[0] == r.kind)
        rs_id = r.kind if not same else f"{r.kind}-{same + 1}"
        record_sets.append({
            "@type": "cr:RecordSet", "@id": rs_id, "name": rs_id,
            "description": f"The columns the {r.kind} audit read from {Path(path).name}.",
            "field": [{"@type": "cr:Field", "@id": f"{rs_id}/{c}", "name": c, "dataType": types.get(c, "sc:Text"),
                       "source": {"fileObject": {"@id": fid}, "extract": {"column": c}}} for c in cols]})
    stated = lambda v: v if v else "not stated"  # noqa: E731
    collection = [f"Generated by {stated(model)} (as stated), on {stated(date)} (as stated); generation prompt: "
                  f"{json.dumps(prompt) if prompt else 'not stated'}."]
    for r in results:
        i = r.input
        skipped = "; ".join(f"{k}: {v:,}" for k, v in i.rows_skipped.items())
        collection.append(f"{r.kind} audit of {i.path or 'an in-memory table'}: {i.rows_read:,} rows read, "
                          f"{i.rows_used:,} used" + (f" (left out: {skipped})" if skipped else "") + ".")
    collection.append(f"Measured by artifactlens {__version__} from the results " +
                      ", ".join(f"{k} sha256:{h}" for k, h in hashes) + ".")
    biases, limits = [], []
    for top in results:
        for r in _walk(top):
            where = r.kind if r is top else f"{r.kind} / {r.title or r.params.get('model_name') or 'section'}"
            for n in r.headline:
                m = r.metrics.get(n)
                if m is not None and m.value is not None:
                    biases.append(f"{where}: " + _figure(n, m, _light(r, n, m.value)))
            for f in r.findings:
                if f.severity in ("warning", "critical"):
                    biases.append(f"{where} ({f.severity}): {f.message}")
        limits.append(f"{top.kind}: {LIMITS.get(top.kind, '')}".strip())
        counts = (top.flags or {}).get("counts") or {}
        if counts:
            limits.append(f"{top.kind}: rows flagged (kept, not removed): " +
                          "; ".join(f"{k}: {v:,}" for k, v in counts.items()) + ".")
    limits += GENERAL_LIMITS
    missing = [k for k in LIMITS if k not in {r.kind for r in results}]
    if missing:
        limits.append(f"Not audited: {', '.join(missing)}.")
    rec = {
        "@context": CONTEXT, "@type": "sc:Dataset", "name": title,
        "description": f"{title}: LLM-generated data audited by artifactlens {__version__} ("
                       f"{', '.join(r.kind for r in results)}). The Responsible-AI fields hold the measured "
                       "figures with 95% intervals.",
        "conformsTo": [CROISSANT, RAI], "keywords": ["synthetic", "llm-generated", "artifactlens",
                                                    *[f"artifactlens-{r.kind}" for r in results]],
        "distribution": files, "recordSet": record_sets,
        "rai:dataCollection": " ".join(collection), "rai:dataBiases": biases, "rai:dataLimitations": limits,
        "subjectOf": [{"@type": "sc:CreativeWork", "name": f"artifactlens {k} audit result", "sha256": h,
                       "version": __version__, "encodingFormat": "application/json"} for k, h in hashes],
    }
    if license:
        rec["license"] = license
    if date and _is_date(date):
        rec["dateCreated"] = date
    per_item = _annotations_per_item(results)
    if per_item:
        rec["rai:annotationsPerItem"] = " ".join(per_item)
    judges = _judges(results)
    if judges:
        rec["rai:machineAnnotationTools"] = [f"{tool} ({what})" for tool, what in judges]
    activities = []
    if model:
        activities.append(_activity(model, "generation of the data (model as stated with --model)", date))
    activities += [_activity(tool, what) for tool, what in judges if what.startswith("the judge")]
    if activities:
        rec["prov:wasGeneratedBy"] = activities
    return rec


def _activity(agent: str, what: str, date: str | None = None) -> dict:
    a = {"@type": "prov:Activity", "description": what,
         "prov:wasAssociatedWith": {"@type": "prov:SoftwareAgent", "name": agent}}
    if date and _is_date(date):
        a["prov:startedAtTime"] = date
    return a


def _is_date(s: str) -> bool:
    try:
        _dt.date.fromisoformat(str(s))
        return True
    except ValueError:
        return False


def write_croissant(results: Sequence[AuditResult], path, **stated) -> dict:
    """The record to ``path`` (JSON-LD); file URLs relative to its folder."""
    from .io.writers import atomic_write_text
    rec = render_croissant(results, base_dir=Path(path).parent, **stated)
    atomic_write_text(path, json.dumps(rec, indent=2, ensure_ascii=False) + "\n")
    return rec
