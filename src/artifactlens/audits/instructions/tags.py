"""The open vs closed question tag (not a flag): closed-QA rows have one right answer, which is where a
wrong output hurts most, so error rates are also given per tag.

Closed: a factual/wh-question, a yes/no question, or a classification/extraction/calculation/
translation/correction task, with a short output (<= 40 words) and no open-ended cue ("some", "ideas",
"tips", "why", "describe", "explain", "story"). Everything else is open. Vectorised (RE2).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from .detectors import Features, rx

CLOSED = (r"^(?:what|who|whom|when|where|which|how many|how much|how long|how far|how old|is|are|does|do|did|can|"
          r"was|were|will|name the|identify|classify|categori[sz]e|extract|find|calculate|compute|solve|convert|"
          r"choose|select|pick|translate|correct|count|sort|detect|determine|answer|label|spell|evaluate|"
          r"true or false|fill in)\b")
OPEN = r"\b(?:some|ideas?|tips|ways|suggest|suggestions|opinion|story|poem|essay|creative|brainstorm|imagine|describe|explain|why|examples)\b"


def qa_type(f: Features) -> pa.Array:
    """``"closed"`` or ``"open"`` per row."""
    closed = rx(f.ins_l, CLOSED, where=f.out_words <= 40)
    closed &= ~rx(f.ins_l, OPEN, where=closed)
    return pa.array(np.where(closed, "closed", "open"))
