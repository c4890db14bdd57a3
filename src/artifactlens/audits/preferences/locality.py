"""Locality bias: do choices follow local cues, a lexicon gap or closeness to the reference?

Cues per response (nothing re-implemented here):

- lexicon cues from :mod:`artifactlens.text.lexicons`: VADER compound sentiment, the ten NRC emotion
  rates, and a user lexicon TSV (``word<TAB>score``, mean score per token);
- closeness to the reference: ROUGE-L F1 (``rouge-score``'s tokenizer, ``rapidfuzz``'s LCS), MiniLM cosine (the packaged model via
  :func:`artifactlens.text.embeddings.embed`), and entailment of the reference by the response from an NLI
  model at a local path (``transformers`` ``AutoModelForSequenceClassification``; the maximum over the
  response's sentences, as in the paper) or from precomputed columns.

The paper correlates the 0/1/2 choice codes with the A-minus-B gap (Pearson r); that figure changes when
the pairs are listed the other way round. The orientation-free figure here is the *agreement with the
cue-preferred response*: over non-tie choices on pairs whose gap is not 0, the share that pick the
response with the larger cue, with a Poisson-bootstrap interval, overall and by decile of |gap|. r is
given as listed, with every pair swapped, and with every pair in both orientations. The paper's own
figure (:func:`code_r`: r of the cue's 0/1/2 code with the choice's, ties coded 2) is given as listed
and as its range over random orientations of the same pairs: it moves with which response is listed
first, the agreement figure does not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ...engine import BatchContext, Check, MapOutput
from ...errors import InputError, MissingDependency
from ...stats import DEFAULT_REPLICATES, BootstrapSums, hash_keys, poisson_weights
from ...text.lexicons import NRC_EMOTIONS, lexicon_score, nrc_emotions, vader_compound
from ...text.minilm import resolve_device
from .load import PairSpec, three_way, view

CODE = {"a": 0.0, "b": 1.0, "tie": 2.0}  # the paper's coding
SWAP = {"a": "b", "b": "a", "tie": "tie"}
_SENT = re.compile(r"(?<=[.!?])\s+")


class NLIScorer:
    """P(entailment) of a hypothesis (the reference) by a premise (the response), max over its sentences."""

    def __init__(self, path: str, batch_size: int = 16, max_length: int = 256, device: str | None = None):
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError:
            raise MissingDependency("transformers", purpose="--nli-model") from None
        self.device = resolve_device(device)
        try:
            self.tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True).eval()
            self.model.to(self.device)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot load an NLI model ({str(e).splitlines()[0]})", path=path,
                             expected="a local folder with a sequence-classification model and its tokenizer") from None
        labels = {str(v).lower(): int(k) for k, v in self.model.config.id2label.items()}
        hits = [i for lab, i in labels.items() if lab.startswith("entail")]
        if not hits:
            raise InputError(f"the model's labels {sorted(labels)} have no 'entailment'", path=path,
                             expected="an NLI model whose id2label names an entailment class")
        self.entail = hits[0]
        self.batch_size, self.max_length = batch_size, max_length

    def score(self, premises, hypotheses) -> np.ndarray:
        import torch
        pairs, owner = [], []
        for i, (p, h) in enumerate(zip(premises, hypotheses)):
            for s in [x for x in _SENT.split(p or "") if x.strip()] or [""]:
                pairs.append((s, h or ""))
                owner.append(i)
        probs = np.zeros(len(pairs))
        with torch.no_grad():
            for k in range(0, len(pairs), self.batch_size):
                chunk = pairs[k:k + self.batch_size]
                enc = self.tok([c[0] for c in chunk], [c[1] for c in chunk], truncation=True, padding=True,
                               max_length=self.max_length, return_tensors="pt").to(self.device)
                p = torch.softmax(self.model(**enc).logits.float(), -1)[:, self.entail]
                probs[k:k + len(chunk)] = p.cpu().numpy()
        out = np.zeros(len(premises))
        np.maximum.at(out, np.asarray(owner, dtype=np.int64), probs)
        return out


@dataclass
class CueConfig:
    lexicon: dict | None = None
    lexicon_name: str = "lexicon"
    nli_model: str | None = None
    embeddings: bool = True
    nrc: bool = True
    device: str | None = None  # where MiniLM and the NLI model run (--device)


def rouge_l(refs, texts) -> np.ndarray:
    """ROUGE-L F1 as ``rouge_score`` computes it (its DefaultTokenizer, no stemming), with the LCS from
    ``rapidfuzz`` (C++; ``rouge_score``'s pure-Python LCS table takes ~20 ms per long pair)."""
    from rapidfuzz.distance import LCSseq
    from rouge_score.tokenizers import DefaultTokenizer
    tok = DefaultTokenizer(use_stemmer=False)
    out = np.zeros(len(texts))
    for i, (r, t) in enumerate(zip(refs, texts)):
        a, b = tok.tokenize(r or ""), tok.tokenize(t or "")
        lcs = LCSseq.similarity(a, b) if a and b else 0
        out[i] = 0.0 if lcs == 0 else 2 * lcs / (len(a) + len(b))
    return out


def _per_unique(fn, items: list) -> np.ndarray:
    """Score each distinct item once (a ranking's response appears in many pairs)."""
    uniq = list(dict.fromkeys(items))
    pos = {u: i for i, u in enumerate(uniq)}
    scores = np.asarray(fn(uniq), dtype=np.float64)
    return scores[[pos[x] for x in items]]


def cue_gaps(v, cfg: CueConfig, nli: NLIScorer | None = None) -> dict[str, np.ndarray]:
    """{cue: (n,) A-minus-B gap} for every cue the data and options allow."""
    out = {}
    both = list(v.a) + list(v.b)
    n = len(v.a)
    d = lambda s: s[:n] - s[n:]  # noqa: E731
    out["sentiment_vader"] = d(_per_unique(vader_compound, both))
    if cfg.nrc:
        emos = _per_unique(lambda u: np.column_stack([nrc_emotions(u)[e] for e in NRC_EMOTIONS]), both)
        for k, e in enumerate(NRC_EMOTIONS):
            out[f"nrc_{e}"] = d(emos[:, k])
    if cfg.lexicon is not None:
        out[cfg.lexicon_name] = d(_per_unique(lambda u: lexicon_score(u, cfg.lexicon), both))
    if v.reference is not None:
        pairs = list(zip(list(v.reference) * 2, both))
        out["rouge_l"] = d(_per_unique(lambda u: rouge_l([p[0] for p in u], [p[1] for p in u]), pairs))
        if cfg.embeddings:
            from ...text.embeddings import cosine_rows, embed
            out["minilm_cosine"] = d(cosine_rows(embed(both, device=cfg.device),
                                                   embed([p[0] for p in pairs], device=cfg.device)))
        if nli is not None:
            out["entailment"] = d(_per_unique(lambda u: nli.score([p[1] for p in u], [p[0] for p in u]), pairs))
    if v.nli_a is not None:
        out["entailment"] = v.nli_a - v.nli_b
    elif v.nli_gap is not None:
        out["entailment"] = v.nli_gap
    return out


class LocalityCheck(Check):
    """Per-row cue gaps (output columns ``cue_<name>``); state: the gaps, choices and bootstrap keys
    (merged by concatenation: deciles need every gap)."""

    name = "locality"
    pure_map = True  # cues per pair from its batch alone; state merges by concatenation

    def __init__(self, spec: PairSpec, cfg: CueConfig, codes=None, group: str | None = None):
        self.spec, self.cfg, self.codes, self.group = spec, cfg, codes, group
        self.nli = None

    def setup(self) -> None:
        if self.cfg.nli_model and self.nli is None:
            self.nli = NLIScorer(self.cfg.nli_model, device=self.cfg.device)

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        v = view(batch, self.spec, self.codes)
        gaps = cue_gaps(v, self.cfg, self.nli)
        n = batch.num_rows
        g = batch.column(self.group).to_pylist() if self.group and self.group in batch.schema.names else None
        keys = hash_keys(["" if x is None else str(x) for x in g]) if g is not None else hash_keys(ctx.row_ids(n))
        none = np.full(n, None, dtype=object)
        st = {"keys": keys, "gaps": gaps,
              "judge": three_way(v.judge) if v.judge is not None else none,
              "human": three_way(v.human) if v.human is not None else none}
        return MapOutput({f"cue_{k}": pa.array(x) for k, x in gaps.items()}, st)

    def merge(self, a, b):
        return {"keys": np.concatenate([a["keys"], b["keys"]]),
                "gaps": {k: np.concatenate([a["gaps"][k], b["gaps"][k]]) for k in a["gaps"] if k in b["gaps"]},
                "judge": np.concatenate([a["judge"], b["judge"]]), "human": np.concatenate([a["human"], b["human"]])}


def _pearson(x, y) -> float:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def r_orientations(gap: np.ndarray, choice: np.ndarray) -> tuple[float, float, float]:
    """Pearson r of the 0/1/2 code (0 = A, 1 = B, 2 = tie) with the A-minus-B gap: as listed, every pair
    swapped, every pair in both orientations."""
    ok = np.array([c in CODE for c in choice]) & np.isfinite(gap)
    g, c = gap[ok], choice[ok]
    y = np.array([CODE[x] for x in c])
    ys = np.array([CODE[SWAP[x]] for x in c])
    return _pearson(g, y), _pearson(-g, ys), _pearson(np.concatenate([g, -g]), np.concatenate([y, ys]))


def code_r(gap: np.ndarray, choice: np.ndarray, seed: int = 0, orientations: int = 100
           ) -> tuple[float, float, float]:
    """The paper's figure: Pearson r of the cue's 0/1/2 code (0 = A has the larger cue, 1 = B, 2 = equal)
    with the choice's 0/1/2 code, as listed; and its range (min, max) over ``orientations`` random
    orientations of the same pairs (each pair swapped with probability 1/2, a seeded generator)."""
    ok = np.array([c in CODE for c in choice]) & np.isfinite(gap)
    g, c = gap[ok], choice[ok]
    if len(g) < 3:
        return float("nan"), float("nan"), float("nan")
    cue = np.where(g > 0, 0.0, np.where(g < 0, 1.0, 2.0))
    y = np.array([CODE[x] for x in c])
    listed = _pearson(cue, y)
    flip = np.random.default_rng(seed).random((orientations, len(g))) < 0.5
    swap = {0.0: 1.0, 1.0: 0.0, 2.0: 2.0}
    cs, ys = np.vectorize(swap.get)(cue), np.vectorize(swap.get)(y)
    rs = [_pearson(np.where(f, cs, cue), np.where(f, ys, y)) for f in flip]
    return listed, float(np.nanmin(rs)), float(np.nanmax(rs))


def summarise(state, seed: int = 0, deciles: int = 10) -> dict:
    """{cue: {"judge"/"human": {"agreement": (est, lo, hi, n), "r": (listed, swapped, both),
    "by_decile": [(est, lo, hi, n)]}, "edges": [...]}}."""
    out = {}
    keys = state["keys"]
    W = poisson_weights(keys, seed, DEFAULT_REPLICATES)  # once for every cue and decile
    for cue, gap in state["gaps"].items():
        finite = np.isfinite(gap) & (gap != 0)
        if not finite.any():
            continue
        mag = np.abs(gap[finite])
        edges = np.unique(np.quantile(mag, np.linspace(0, 1, deciles + 1)))
        dec = np.full(len(gap), -1)
        if len(edges) > 1:
            dec[finite] = np.clip(np.searchsorted(edges, mag, side="right") - 1, 0, len(edges) - 2)
        res = {"edges": edges.tolist()}
        for who in ("judge", "human"):
            c = state[who]
            use = finite & np.isin(c, ["a", "b"])
            if not use.any():
                continue
            agree = use & ((c == "a") == (gap > 0))
            vals = {"x": agree.astype(float), "n": use.astype(float)}
            for k in range(max(0, len(edges) - 1)):
                vals[f"x{k}"], vals[f"n{k}"] = (agree & (dec == k)).astype(float), (use & (dec == k)).astype(float)
            acc = BootstrapSums(seed)
            acc.add(keys, vals, weights=W)
            pt = acc.point()
            by = []
            for k in range(max(0, len(edges) - 1)):
                if pt[f"n{k}"] > 0:
                    by.append((*acc.ratio(f"x{k}", f"n{k}"), int(pt[f"n{k}"])))
                else:
                    by.append((None, None, None, 0))
            res[who] = {"agreement": (*acc.ratio("x", "n"), int(pt["n"])), "r": r_orientations(gap, c),
                        "code_r": code_r(gap, c, seed), "by_decile": by}
        out[cue] = res
    return out


CUE_LABELS = {"sentiment_vader": "sentiment (VADER)", "rouge_l": "ROUGE-L to reference",
              "minilm_cosine": "MiniLM cosine to reference", "entailment": "entailment of reference (NLI)",
              **{f"nrc_{e}": f"NRC {e}" for e in NRC_EMOTIONS}}
