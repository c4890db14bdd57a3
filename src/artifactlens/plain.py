"""Plain data: Python objects as a JSON tree plus numpy arrays, and back, without ever running code.

What the ``--resume`` checkpoints (:mod:`artifactlens.engine.checkpoint`) use for the checks' partial
states (Counters, bootstrap sums, arrays, tuples-keyed dicts, a few dataclasses). It replaces pickle
there: reading a checkpoint decodes JSON (:func:`json.loads`) and numpy arrays (``np.load`` with
``allow_pickle=False``: object arrays are refused) and rebuilds only

- JSON scalars, ``list``, ``tuple``, ``dict`` (any plain keys), ``set``, ``frozenset``, ``bytes``,
  ``complex``, ``pathlib`` paths, ``collections.Counter`` / ``OrderedDict`` / ``defaultdict`` (factory
  ``int``, ``float``, ``list``, ``dict``, ``set`` only), numpy arrays and scalars of any non-object dtype
  (object arrays element by element), pyarrow arrays, record batches and tables (Arrow IPC);
- classes registered here *by name* (:func:`state_type`): a dataclass is rebuilt from its declared fields,
  another class from the attributes it declares (``fields=``) or from its own ``__plain__`` /
  ``__from_plain__`` pair.

A name that is not registered, a tag that is not one of the above or a field a class does not declare
is a :class:`NotPlain` error: nothing is looked up by module path, no constructor is called that the
registry did not name. (Python's standard library has no such codec: ``pickle`` and ``shelve`` run code
on load, ``json`` knows no arrays, tuples or non-string keys; Arrow IPC cannot hold Counters.)
"""
from __future__ import annotations

import base64
import dataclasses
import io
import json
import pathlib
import re
import zipfile
from collections import Counter, OrderedDict, defaultdict
from typing import Any, Callable

import numpy as np

FORMAT = 1
_FACTORIES: dict[str, Callable] = {"int": int, "float": float, "list": list, "dict": dict, "set": set}
_LEAVES = (str, int, bool, type(None))  # written as they are (a float needs its finite check)
_JSON_LEAVES = (str, int, bool, float, type(None))
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,120}$")
MAX_DEPTH = 200  # nesting of a decoded tree (JSON itself recurses): deeper is refused, not a RecursionError


class NotPlain(ValueError):
    """An object that cannot be written as plain data, or a tree that is not one this module wrote."""


@dataclasses.dataclass(frozen=True)
class _Type:
    cls: type
    fields: tuple[str, ...] | None


_REGISTRY: dict[str, _Type] = {}
_NAMES: dict[type, str] = {}


def state_type(name: str, *, fields: tuple[str, ...] | None = None):
    """Class decorator: the class may be written to and read from plain data under ``name``.

    A dataclass is written as its fields and rebuilt by calling the class with them. Any other class is
    written as the attributes named in ``fields`` (default: every instance attribute) and rebuilt with
    ``cls.__new__(cls)`` and those attributes set; or it defines ``__plain__(self) -> dict`` and the
    classmethod ``__from_plain__(cls, d)`` itself."""
    if not _NAME.match(name):
        raise ValueError(f"not a valid state type name: {name!r}")

    def deco(cls):
        known = _REGISTRY.get(name)
        if known is not None and known.cls.__qualname__ != cls.__qualname__:
            raise ValueError(f"state type name {name!r} is already {known.cls.__qualname__}")
        _REGISTRY[name] = _Type(cls, tuple(fields) if fields is not None else None)
        _NAMES[cls] = name
        return cls
    return deco


def registered() -> dict[str, type]:
    """``{name: class}`` of the registered state types."""
    return {k: v.cls for k, v in _REGISTRY.items()}


# -- encode ----------------------------------------------------------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays: list[np.ndarray] = []

    def array(self, a: np.ndarray) -> int:
        self.arrays.append(a)
        return len(self.arrays) - 1

    def enc(self, x: Any, depth: int = 0):
        if depth > MAX_DEPTH:
            raise NotPlain(f"nesting deeper than {MAX_DEPTH}")
        t = type(x)
        if x is None or t in (bool, int, str):
            return x
        if t is float:
            return x if np.isfinite(x) else {"$": "float", "v": repr(x)}
        d = depth + 1
        if t is list:
            return [v if type(v) in _LEAVES else self.enc(v, d) for v in x]
        if isinstance(x, np.ndarray):
            if x.dtype.hasobject:
                return {"$": "ndobj", "shape": list(x.shape), "v": [self.enc(v, d) for v in x.reshape(-1).tolist()]}
            return {"$": "nd", "i": self.array(x)}
        if isinstance(x, np.generic):
            if x.dtype.hasobject:
                raise NotPlain("a numpy object scalar")
            return {"$": "npscalar", "i": self.array(np.asarray(x))}
        if t is tuple:
            return {"$": "tuple", "v": [v if type(v) in _LEAVES else self.enc(v, d) for v in x]}
        if t in (set, frozenset):
            return {"$": t.__name__, "v": [self.enc(v, d) for v in x]}
        if t in (dict, Counter, OrderedDict):
            return {"$": t.__name__, "v": [[k if type(k) in _LEAVES else self.enc(k, d),
                                            v if type(v) in _LEAVES else self.enc(v, d)] for k, v in x.items()]}
        if t is defaultdict:
            f = next((n for n, fn in _FACTORIES.items() if x.default_factory is fn), None)
            if f is None:
                raise NotPlain(f"a defaultdict with the factory {x.default_factory!r}")
            return {"$": "defaultdict", "f": f, "v": [[self.enc(k, d), self.enc(v, d)] for k, v in x.items()]}
        if t is bytes:
            return {"$": "bytes", "v": base64.b64encode(x).decode("ascii")}
        if t is complex:
            return {"$": "complex", "v": [repr(x.real), repr(x.imag)]}
        if isinstance(x, pathlib.PurePath):
            return {"$": "path", "v": str(x)}
        arrow = _arrow_kind(x)
        if arrow:
            return {"$": "arrow", "kind": arrow, "i": self.array(_arrow_bytes(x, arrow))}
        name = _NAMES.get(t)
        if name is None:
            raise NotPlain(f"{t.__module__}.{t.__qualname__} is not a registered state type")
        spec = _REGISTRY[name]
        if hasattr(t, "__plain__"):
            attrs = x.__plain__()
        elif dataclasses.is_dataclass(t):
            attrs = {f.name: getattr(x, f.name) for f in dataclasses.fields(t) if f.init}
        else:
            names = spec.fields if spec.fields is not None else tuple(vars(x))
            attrs = {k: getattr(x, k) for k in names if hasattr(x, k)}
        return {"$": "obj", "type": name, "v": {k: self.enc(v, d) for k, v in attrs.items()}}


def _arrow_kind(x) -> str | None:
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    for kind, cls in (("table", pa.Table), ("batch", pa.RecordBatch), ("chunked", pa.ChunkedArray), ("array", pa.Array)):
        if isinstance(x, cls):
            return kind
    return None


def _arrow_bytes(x, kind: str) -> np.ndarray:
    import pyarrow as pa
    table = x if kind == "table" else pa.Table.from_batches([x]) if kind == "batch" else pa.table({"v": x})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return np.frombuffer(sink.getvalue(), dtype=np.uint8)


def encode(obj) -> tuple[Any, list[np.ndarray]]:
    """``(tree, arrays)``: ``tree`` is JSON-serialisable (arrays referred to by index), ``arrays`` are
    numpy arrays of non-object dtypes. Raises :class:`NotPlain` for anything this module cannot rebuild."""
    e = _Encoder()
    return e.enc(obj), e.arrays


def tagged_dict(items: dict) -> dict:
    """The encoded form of a dict whose values are already encoded trees (keys: JSON scalars)."""
    return {"$": "dict", "v": [[k, v] for k, v in items.items()]}


def try_encode(obj, arrays: list[np.ndarray]):
    """Encode ``obj`` appending its arrays to ``arrays`` (indices follow on); :class:`NotPlain` leaves
    ``arrays`` untouched."""
    e = _Encoder()
    e.arrays = list(arrays)
    tree = e.enc(obj)
    arrays[:] = e.arrays
    return tree


# -- decode ----------------------------------------------------------------------------------------------
class _Decoder:
    def __init__(self, arrays):
        self.arrays = arrays

    def array(self, i) -> np.ndarray:
        if type(i) is not int or not 0 <= i < len(self.arrays):
            raise NotPlain(f"array reference {i!r} out of range")
        return self.arrays[i]

    def pairs(self, v, d):
        if type(v) is not list or not all(type(p) is list and len(p) == 2 for p in v):
            raise NotPlain("a mapping that is not a list of pairs")
        return [(k if type(k) in _JSON_LEAVES else self.dec(k, d), x if type(x) in _JSON_LEAVES else self.dec(x, d))
                for k, x in v]

    def dec(self, x, depth: int = 0):
        if depth > MAX_DEPTH:
            raise NotPlain(f"nesting deeper than {MAX_DEPTH}")
        t = type(x)
        if x is None or t in (bool, int, float, str):
            return x
        d = depth + 1
        if t is list:
            return [v if type(v) in _JSON_LEAVES else self.dec(v, d) for v in x]
        if t is not dict or "$" not in x:
            raise NotPlain("an object without a type tag")
        tag, v = x["$"], x.get("v")
        if tag == "tuple":  # the commonest tags first
            return tuple(self._list(v, d))
        if tag == "dict":
            return dict(self.pairs(v, d))
        if tag == "float":
            if v not in ("nan", "inf", "-inf"):
                raise NotPlain(f"not a special float: {v!r}")
            return float(v)
        if tag == "nd":
            return self.array(x.get("i"))  # each occurrence has its own member: no aliasing
        if tag == "npscalar":
            a = self.array(x.get("i"))
            if a.ndim != 0:
                raise NotPlain("a numpy scalar that is not 0-d")
            return a[()]
        if tag == "ndobj":
            shape = x.get("shape")
            if type(shape) is not list or not all(type(s) is int and s >= 0 for s in shape) or type(v) is not list:
                raise NotPlain("a malformed object array")
            out = np.empty(len(v), dtype=object)
            out[:] = [self.dec(e, d) for e in v] if v else []
            return out.reshape(shape)
        if tag == "set":
            return set(self._list(v, d))
        if tag == "frozenset":
            return frozenset(self._list(v, d))
        if tag == "Counter":
            return Counter(dict(self.pairs(v, d)))
        if tag == "OrderedDict":
            return OrderedDict(self.pairs(v, d))
        if tag == "defaultdict":
            f = _FACTORIES.get(x.get("f"))
            if f is None:
                raise NotPlain(f"a defaultdict factory that is not allowed: {x.get('f')!r}")
            return defaultdict(f, self.pairs(v, d))
        if tag == "bytes":
            if type(v) is not str:
                raise NotPlain("bytes that are not base64 text")
            return base64.b64decode(v, validate=True)
        if tag == "complex":
            if type(v) is not list or len(v) != 2 or not all(type(p) is str for p in v):
                raise NotPlain("a malformed complex number")
            return complex(float(v[0]), float(v[1]))
        if tag == "path":
            if type(v) is not str:
                raise NotPlain("a path that is not text")
            return pathlib.Path(v)
        if tag == "arrow":
            return _from_arrow_bytes(self.array(x.get("i")), x.get("kind"))
        if tag == "obj":
            return self._obj(x.get("type"), v, d)
        raise NotPlain(f"unknown tag {tag!r}")

    def _list(self, v, d) -> list:
        if type(v) is not list:
            raise NotPlain("a sequence that is not a list")
        return [e if type(e) in _JSON_LEAVES else self.dec(e, d) for e in v]

    def _obj(self, name, v, d):
        spec = _REGISTRY.get(name) if type(name) is str else None
        if spec is None:
            raise NotPlain(f"{name!r} is not a registered state type")
        if type(v) is not dict or not all(type(k) is str and k.isidentifier() and not k.startswith("__") for k in v):
            raise NotPlain(f"malformed fields for {name}")
        attrs = {k: self.dec(e, d) for k, e in v.items()}
        cls = spec.cls
        if hasattr(cls, "__from_plain__"):
            return cls.__from_plain__(attrs)
        if dataclasses.is_dataclass(cls):
            known = {f.name for f in dataclasses.fields(cls) if f.init}
            if not set(attrs) <= known:
                raise NotPlain(f"{name} has no field {sorted(set(attrs) - known)[0]!r}")
            return cls(**attrs)
        allowed = set(spec.fields) if spec.fields is not None else None
        if allowed is not None and not set(attrs) <= allowed:
            raise NotPlain(f"{name} has no field {sorted(set(attrs) - allowed)[0]!r}")
        obj = cls.__new__(cls)
        vars(obj).update(attrs)
        return obj


def _from_arrow_bytes(buf: np.ndarray, kind):
    import pyarrow as pa
    if kind not in ("table", "batch", "chunked", "array") or buf.dtype != np.uint8 or buf.ndim != 1:
        raise NotPlain("a malformed Arrow value")
    table = pa.ipc.open_stream(pa.py_buffer(buf.tobytes())).read_all()
    if kind == "table":
        return table
    if kind == "batch":
        t = table.combine_chunks()
        return t.to_batches()[0] if t.num_rows else pa.RecordBatch.from_pylist([], schema=t.schema)
    col = table.column(0)
    return col if kind == "chunked" else col.combine_chunks()


def decode(tree, arrays) -> Any:
    """The object :func:`encode` was given (arrays: the list it returned, or what :func:`load` read)."""
    return _Decoder(list(arrays)).dec(tree)


# -- one file: an .npz archive of .npy members, the tree as UTF-8 JSON in member "tree" -----------------------
def dumps(obj) -> bytes:
    """``obj`` as the bytes of one ``.npz`` file (read back with :func:`loads`)."""
    tree, arrays = encode(obj)
    return dumps_tree(tree, arrays)


def dumps_tree(tree, arrays: list[np.ndarray]) -> bytes:
    text = json.dumps({"format": FORMAT, "tree": tree}, ensure_ascii=False, separators=(",", ":"))
    buf = io.BytesIO()
    members = {"tree": np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    members.update({f"a{i}": a for i, a in enumerate(arrays)})
    np.savez(buf, **members)
    return buf.getvalue()


def loads(data: bytes):
    """Read what :func:`dumps` wrote. Raises :class:`NotPlain` (a :class:`ValueError`) for anything else:
    a file that is not such an archive, an object array, a tag or type this module does not know."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            names = set(z.files)
            if "tree" not in names:
                raise NotPlain("no tree member")
            n = len(names) - 1
            if names != {"tree", *(f"a{i}" for i in range(n))}:
                raise NotPlain("unexpected members")
            raw = z["tree"]
            arrays = [z[f"a{i}"] for i in range(n)]
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
        raise NotPlain(f"not a plain-data archive ({e})") from None
    except ValueError as e:  # an object array (allow_pickle=False), a malformed .npy header
        raise NotPlain(str(e)) from None
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise NotPlain("the tree member is not UTF-8 bytes")
    try:
        doc = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise NotPlain(f"the tree is not JSON ({type(e).__name__})") from None
    if type(doc) is not dict or doc.get("format") != FORMAT:
        raise NotPlain("not a plain-data tree of this version")
    return decode(doc["tree"], arrays)
