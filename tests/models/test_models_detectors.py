"""Model-backed detectors without a server: the answer parsers (case tables), the instruction-following
difficulty score from a tiny causal LM trained here (transformers' config API, offline), and the
rule that no model means no model-backed detector."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from artifactlens.audits.instructions.model_checks import IFDDetector, model_detectors, parse_rubric
from artifactlens.audits.preferences.model_entailment import entailment_detectors, parse_yes_no
from artifactlens.audits.simulations.model_digression import parse_on_off
from artifactlens.errors import InputError
from artifactlens.models import ModelOptions
from artifactlens.models.generate import load_prompt, parse_choice, parse_label


@pytest.mark.parametrize("answer,expected", [
    ("OK", (None, "")),
    ("OUTPUT_MISMATCH: the output is a poem, not a list", ("inconsistent_output", "the output is a poem, not a list")),
    ("**WRONG_OUTPUT** - 2+2 is 4", ("incorrect_output", "2+2 is 4")),
    ("Label: input_mismatch: the input is a recipe", ("inconsistent_input", "the input is a recipe")),
    ("INCOMPREHENSIBLE_INSTRUCTION:", ("incomprehensible_instruction", "")),
    ("The row looks mostly fine to me", None),
    ("", None),
    ("OKAY", None),  # not the word OK
])
def test_parse_rubric(answer, expected):
    assert parse_rubric(answer) == expected


@pytest.mark.parametrize("answer,expected", [("ON", False), ("off.", True), ("It is OFF topic", True),
                                             ("Online", None), ("", None), ("on", False)])
def test_parse_on_off(answer, expected):
    assert parse_on_off(answer) is expected


@pytest.mark.parametrize("answer,expected", [("YES", 1.0), ("no.", 0.0), ("Yes, it does", 1.0), ("Nope", math.nan),
                                             ("", math.nan)])
def test_parse_yes_no(answer, expected):
    got = parse_yes_no(answer)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


LABELS = ["offensive", "maybe", "not offensive"]


@pytest.mark.parametrize("answer,expected", [
    ("offensive", "offensive"), ("Not offensive.", "not offensive"), ("Maybe\nbecause it is rude", "maybe"),
    ("The label is: maybe", "maybe"), ("offensive or maybe", None), ("", None), ("neutral", None),
    (None, None),
])
def test_parse_label(answer, expected):
    assert parse_label(answer, LABELS) == expected


@pytest.mark.parametrize("answer,expected", [("A", "a"), ("Response B is better", "b"), ("TIE", "tie"),
                                             ("**B**", "b"), ("Both are bad", None), ("", None)])
def test_parse_choice(answer, expected):
    assert parse_choice(answer) == expected


def test_prompt_templates_are_checked(tmp_path):
    assert load_prompt(None, "d {text}", ("text",)) == "d {text}"
    f = tmp_path / "p.txt"
    f.write_text("Label {text} as one of {labels}")
    assert load_prompt(f"@{f}", "", ("text", "labels")) == "Label {text} as one of {labels}"
    with pytest.raises(InputError, match="unknown or broken field"):
        load_prompt("Label {txt}", "", ("text", "labels"))
    with pytest.raises(InputError, match="cannot read the prompt file"):
        load_prompt(f"@{tmp_path / 'missing.txt'}", "", ("text",))


def test_no_model_no_model_detectors():
    assert model_detectors(None) == [] and model_detectors(ModelOptions()) == []
    assert entailment_detectors(ModelOptions()) == []
    assert entailment_detectors(ModelOptions(nli_path="x"), reference=None) == []


def test_ifd_flags_outputs_the_instruction_does_not_predict(tiny_lm):
    d = IFDDetector(tiny_lm)
    batch = pa.RecordBatch.from_pydict({"instruction": ["colour", "animal", "colour", "fruit"],
                                        "input": ["", "", "", ""], "output": ["red", "dog", "dog", "red"]})
    rs = d.score(batch)
    assert rs.score[0] < 0.5 and rs.score[1] < 0.5  # the instruction makes the output far more likely
    assert rs.score[2] > 1.0 and rs.score[3] > 1.0  # the instruction makes it less likely
    assert d.decide(rs.score).tolist() == [False, False, True, True]
    assert rs.reason[2].startswith("IFD ")
    assert model_detectors(ModelOptions(lm_path=tiny_lm))[0].name == "lm_ifd"


def test_ifd_bad_path_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="cannot load a causal LM"):
        IFDDetector(str(tmp_path)).setup()


def test_ifd_empty_output_scores_nan(tiny_lm):
    rs = IFDDetector(tiny_lm).score(pa.RecordBatch.from_pydict({"instruction": ["colour"], "input": [""],
                                                                 "output": [""]}))
    assert np.isnan(rs.score[0]) and rs.reason == [None]
