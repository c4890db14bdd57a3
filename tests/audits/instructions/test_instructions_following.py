"""The "output does not follow" detectors (IFEval-style verifiable constraints and completeness): per
detector, rows it must flag and near-miss rows it must leave alone (the "Tests: k/k, 0/m" figures in each
docstring), the parsed constraint and the measured value in every reason, and the fitted length range."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from artifactlens.audits.instructions.detectors import REGISTRY, Features
from artifactlens.audits.instructions.detectors.completeness import (OutputTerse, OutputTooShort, instruction_parts,
                                                                        task_types)
from artifactlens.audits.instructions.detectors.following import options_in, paragraphs, sentences

STORY = "Once upon a time a fox lived in the woods and " * 12  # 120 words

# name: (must flag [(instruction, input, output, words the reason must hold)], near misses [(ins, inp, out)])
CASES = {
    "sentence_count_wrong": (
        [("Describe the sea in three sentences.", "", "The sea is big. It is blue.", "3 sentence(s); output: 2"),
         ("Explain gravity in one sentence.", "", "Gravity pulls. It keeps us down. It bends light.", "output: 3"),
         ("Summarize it in at most 2 sentences.", "A text.", "One. Two. Three. Four.", "at most 2")],
        [("Describe the sea in three sentences.", "", "The sea is big. It is blue. Waves roll in at 3.5 m/s."),
         ("Write a sentence about cats.", "", "Cats purr. Cats nap."),
         ("Rewrite the following sentence in the passive voice.", "The cat ate.", "It was eaten. By the cat."),
         ("Write three sentences about each planet.", "", "Mars is red.")]),
    "word_count_wrong": (
        [("Describe Paris in under 10 words.", "", "Paris is the capital of France and home to the Eiffel Tower.",
          "under 10 words; output: 12"),
         ("Write a story in 100 words or less.", "", STORY + "end", "at most 100 words"),
         ("Write at least 50 words about tea.", "", "Tea is nice.", "at least 50 words; output: 3"),
         ("Write a 50-word bio.", "", "A short bio.", "50 words (+-20 %)")],
        [("Describe Paris in under 10 words.", "", "Paris: capital of France, city of light."),
         ("Write a story in 100 words.", "", " ".join(["word"] * 90)),
         ("Find the 5 words that rhyme with cat.", "", "hat"),
         ("Count the words in the sentence.", "I like tea", "3")]),
    "paragraph_count_wrong": (
        [("Write one paragraph about rain.", "", "Rain falls.\n\nIt is wet.", "1 paragraph(s); output: 2"),
         ("Write two paragraphs about snow.", "", "Snow is cold and white and it falls in winter.", "output: 1"),
         ("Write a 3-paragraph essay on tea.", "", "Tea is old.\n\nTea is good.", "3 paragraph(s); output: 2")],
        [("Write one paragraph about rain.", "", "Rain falls on the hills.\nIt feeds the rivers."),
         ("Write two paragraphs about snow.", "", "Snow is cold.\n\nIt melts in spring."),
         ("Summarize the first paragraph.", "A. B.\n\nC.", "A.")]),
    "selection_count_wrong": (
        [("Select two of the given topics and write about them.", "Climate\nHealth\nSport",
          "Climate is changing. Health matters. Sport is fun.", "select 2 of 3 options; output names 3"),
         ("Choose three of these fruits.", "apple, pear, fig, plum", "Apple and pear.", "output names 2"),
         ("Pick two colours from the list.", "", "- red\n- blue\n- green", "output lists 3 items")],
        [("Select two of the given topics and write about them.", "Climate\nHealth\nSport",
          "Climate is changing and health matters."),
         ("Choose the best answer.", "A) 1\nB) 2", "B"),
         ("Pick one word that fits.", "", "Blue."),
         ("Select two of the following options.", "red, blue, green", "I like neither of them.")]),
    "format_not_given": (
        [("Present the data in a table.", "a=1, b=2", "a is 1 and b is 2.", "asked: a table"),
         ("Give three tips as bullet points.", "", "Sleep well. Eat well. Walk.", "asked: bullet points"),
         ("Write the steps as a numbered list.", "", "First boil water, then add tea.", "a numbered list"),
         ("Write a Python function that reverses a string.", "", "You can reverse it by slicing it backwards.",
          "asked: code")],
        [("Present the data in a table.", "a=1, b=2", "| key | value |\n|---|---|\n| a | 1 |\n| b | 2 |"),
         ("Give three tips as bullet points.", "", "- Sleep well\n- Eat well\n- Walk"),
         ("Write a Python function that reverses a string.", "", "def rev(s):\n    return s[::-1]"),
         ("Explain what a Python function is.", "", "A function is a named block of code.")]),
    "case_wrong": (
        [("Answer in all capital letters: what is the capital of France?", "", "Paris", "all capitals"),
         ("Write a slogan in lowercase letters.", "", "Drink Tea Daily", "all lower case"),
         ("Respond in all caps.", "", "HELLO there", "5 of 10 letters")],
        [("Answer in all capital letters: what is the capital of France?", "", "PARIS."),
         ("Write a slogan in lowercase letters.", "", "drink tea daily"),
         ("Capitalize the first letter of each word.", "hello world", "Hello World")]),
    "start_end_wrong": (
        [("Write a letter and start your answer with 'Dear Sir'.", "", "Hello, I write to...", "start with 'dear sir'"),
         ('Write a story. Begin with the word "Once".', "", "There was a fox.", "'once'"),
         ("Write a note and end your response with 'Best wishes'.", "", "See you soon. Cheers.", "end with 'best wishes'")],
        [("Write a letter and start your answer with 'Dear Sir'.", "", "Dear Sir, I write to..."),
         ('Write a story. Begin with the word "Once".', "", "**Once** there was a fox."),
         ("Write a note and end your response with 'Best wishes'.", "", "See you soon.\nBest wishes!")]),
    "forbidden_word_used": (
        [("Describe the sky without using the word 'blue'.", "", "The sky is blue today.", "uses ['blue']"),
         ("Write a sentence without using the letter e.", "", "The cat sat.", "letter 'e' forbidden"),
         ("Do not use the words 'good' or 'bad'. Review the film.", "", "A good film.", "['good']")],
        [("Describe the sky without using the word 'blue'.", "", "The sky is azure and clear."),
         ("Write a sentence without using the letter e.", "", "A cat sat on a mat."),
         ("Do not use the words 'good' or 'bad'. Review the film.", "", "A goodly film, badly lit.")]),
    "language_not_asked": (
        [("Write a short poem in French about the sea.", "", "The sea is wide and blue and the waves come home.",
          "asked: french (fr); output: 'en'"),
         ("Answer in Spanish: what is your favourite food?", "", "My favourite food is pizza with lots of cheese.",
          "(es)")],
        [("Write a short poem in French about the sea.", "", "La mer est grande et bleue et les vagues reviennent."),
         ("Answer in Spanish: what is your favourite food?", "", "Mi comida favorita es la pizza con mucho queso."),
         ("Describe life in German cities.", "", "Life in German cities is busy, green and well organised.")]),
    "translation_wrong": (
        [("Translate the sentence into French.", "The cat is sleeping on the sofa.", "The cat is sleeping on the sofa.",
          "repeats the text"),
         ("Translate the sentence into Spanish.", "The weather is very nice today.", "Le temps est très beau aujourd'hui.",
          "into spanish (es); output: 'fr'"),
         ("Translate this text.", "Le chat dort sur le canapé du salon.", "Le chat dort sur le canapé, dans le salon.",
          "both 'fr'")],
        [("Translate the sentence into French.", "The cat is sleeping on the sofa.", "Le chat dort sur le canapé."),
         ("Translate this text.", "Le chat dort sur le canapé du salon.", "The cat sleeps on the living-room sofa."),
         ("Explain what translation means.", "", "It means putting a text into another language.")]),
    "example_missing": (
        [("Explain what a metaphor is and give an example.", "", "A metaphor compares two unlike things directly.",
          "no example marker"),
         ("Define inflation and provide an example.", "", "Inflation is a general rise in prices over time.", "asked: an example"),
         ("Describe recursion with an example.", "", "Recursion is a function calling itself.", "no example")],
        [("Explain what a metaphor is and give an example.", "", "A metaphor compares things, for example 'time is money'."),
         ("Give an example of a mammal.", "", "A dog."),
         ("Define inflation and provide an example.", "", "Inflation is rising prices. Consider bread: it cost $1, now $2.")]),
    "rewrite_wrong": (
        [("Rewrite the sentence to be more formal.", "Hey, can you send me the report today?",
          "Hey, can you send me the report today?", "unchanged"),
         ("Paraphrase the text.", "The committee postponed the vote until next month because of the storm.",
          "Bananas are yellow fruits rich in potassium.", "keeps 0% of the text's 8 content words"),
         ("Rephrase: The quick brown fox jumps over the lazy dog near the river.", "", "Cats like milk very much.",
          "(expected some)")],
        [("Rewrite the sentence to be more formal.", "Hey, can you send me the report today?",
          "Could you please send me the report today?"),
         ("Paraphrase the text.", "The committee postponed the vote until next month because of the storm.",
          "Because of the storm, the committee delayed voting for a month."),
         ("Rewrite the story.", "", "Once upon a time...")]),
    "summary_not_shorter": (
        [("Summarize the text.", " ".join(["word"] * 50), " ".join(["word"] * 60), "summary of 60 words for a text of 50"),
         ("Condense the paragraph.", " ".join(["tea"] * 45), " ".join(["tea"] * 45), "text of 45 words"),
         ("Write a summary of the article.", " ".join(["x"] * 80), " ".join(["y"] * 100), "100 words")],
        [("Summarize the text.", " ".join(["word"] * 50), "A short summary."),
         ("Summarize the text.", "Too short to matter.", "A longer summary of a short text, longer than it."),
         ("Expand the summary into a detailed text.", " ".join(["word"] * 50), " ".join(["word"] * 90))]),
    "class_not_given": (
        [("Classify the review as positive, negative or neutral.", "Loved it.", "The reviewer seems to have enjoyed the film a lot.",
          "output names none"),
         ("Categorize the animal into mammal, bird or fish.", "salmon", "Salmon live in rivers and the sea for years.",
          "['mammal', 'bird', 'fish']"),
         ("Classify the email as spam or not spam.", "Win $$$", "This email looks suspicious to me honestly.", "none")],
        [("Classify the review as positive, negative or neutral.", "Loved it.", "This review is clearly positive overall."),
         ("Categorize the animal into mammal, bird or fish.", "owl", "The owl is a bird of prey that hunts at night."),
         ("Classify the email as spam or not spam.", "Win $$$", "Spam.")]),
    "multi_part_incomplete": (
        [("What tools do I need? What safety tips should I follow?", "", "You need a ladder, a scoop and gloves.",
          "part 2 of 2 not addressed"),
         ("1. Define photosynthesis.\n2. Name the gas plants release.", "", "Photosynthesis turns light into sugar.",
          "part 2 of 2"),
         ("Explain the causes of the war; list its main battles.", "", "The war was caused by debt and pride.",
          "none of")],
        [("What tools do I need? What safety tips should I follow?", "", "Tools: a ladder. Safety tips: hold the ladder."),
         ("1. Define photosynthesis.\n2. Name the gas plants release.", "", "Photosynthesis makes sugar; they release oxygen gas."),
         ("Why is the sky blue?", "", "Because of Rayleigh scattering."),
         ("What is AI? Who coined it?", "", "ok")]),
    "too_few_items": (
        [("Write a few interview questions for a barista.", "", "What is your favourite coffee?",
          "('a few interview questions'); output: one item of 5 word(s)"),
         ("Come up with some names for a bakery.", "", "Crumbs", "('some names')"),
         ("Think of as many captions as you can for a snow photo.", "", "First snow seen from the office window",
          "as many captions")],
        [("Write a few interview questions for a barista.", "", "What is your favourite coffee?\nWhy this cafe?"),
         ("Come up with some names for a bakery.", "", "Crumbs, Rise and Shine, Loaf"),
         ("Given some reviews, classify the sentiment as positive or negative.", "Great!", "Positive"),
         ("Suggest some ways to save money.", "", "Cook at home and cancel the subscriptions you do not use.")]),
    "explanation_missing": (
        [("Select the correct option and explain the meaning of the word.", "A) loud\nB) quiet", "(a)",
          "asked: 'explain'; output: '(a)' (1 word(s))"),
         ("Based on the facts provided, prove the following statement.", "k^2 + 2k + 1 >= 0", "True", "'prove'"),
         ("Solve it step by step.", "3x = 12", "x = 4", "'step by step'")],
        [("Select the correct option and explain the meaning of the word.", "A) loud\nB) quiet",
          "A. Cacophony means a harsh mixture of loud sounds."),
         ("Explain in one word how you feel.", "", "Happy"),
         ("Answer true or false, no explanation needed.", "2 + 2 = 4", "True")]),
    "items_repeated": (
        [("Suggest shows like Squid Game.", "", "Alice in Borderland, " + "Rick and Morty, " * 8, "('rick and morty' x8)"),
         ("Give words that rhyme with instruct.", "", "instruct, respect, rest, test, vest, west, best, test, fest, fest, "
          "west, test", "of 12 list items repeat"),
         ("List conversation starters about the weather.", "",
          "\n".join(["- Nice day?"] + ["- How much volcanic ash is in the air right now?"] * 6), "x6")],
        [("List some rivers.", "", "Nile, Amazon, Danube, Rhine, Volga, Mekong, Thames"),
         ("Write a function.", "", "def f(x):\n    if x:\n        return 1\n    return 2\n}\n}\n}\n}"),
         ("Give two examples.", "", "Example 1: In: 10 Out: 4\nExample 2: In: 3 Out: 4\nExample 3: In: 7 Out: 4"),
         ("Name three fruits.", "", "apple, apple")]),
}


def _batch(rows):
    return pa.RecordBatch.from_pydict({"instruction": [r[0] for r in rows], "input": [r[1] for r in rows],
                                       "output": [r[2] for r in rows], "source": ["t"] * len(rows),
                                       "group": list(range(len(rows))), "row": list(range(len(rows)))})


def _run(name, rows):
    d = REGISTRY[name]()
    rs = d.score_features(Features(_batch(rows)))
    flag = d.decide(rs.score)
    assert len(rs.reason) == len(rows)
    return flag, rs.reason


@pytest.mark.parametrize("name", sorted(CASES))
def test_flags_planted_rows_with_constraint_and_measure_in_reason(name):
    rows = CASES[name][0]
    flag, why = _run(name, rows)
    assert flag.all(), [(r, w) for r, f, w in zip(rows, flag, why) if not f]
    for r, w in zip(rows, why):
        assert r[3] in w, (r, w)


@pytest.mark.parametrize("name", sorted(CASES))
def test_leaves_near_misses(name):
    rows = CASES[name][1]
    flag, why = _run(name, rows)
    assert not flag.any(), [(r, w) for r, f, w in zip(rows, flag, why) if f]


def test_every_following_detector_is_in_the_family_and_tested():
    fam = {n for n, c in REGISTRY.items() if c.family == "not_following"}
    assert fam - {"output_too_short"} == set(CASES)  # output_too_short: test_too_short_learns_the_range_per_task_type
    quality = {n for n, c in REGISTRY.items() if c.family == "below_expert_standard"}
    assert quality == {"output_terse"}  # test_terse_compares_with_the_same_opening_word_else_the_task_type
    for n in fam | quality:
        assert "Tests:" in REGISTRY[n].__doc__


def test_counting_rules():
    assert sentences("It costs 3.5 dollars. Really! Is it? yes") == 4
    assert sentences("- one item\n- two items") == 2
    assert paragraphs("a\n\n\nb\n  \nc") == 3 and paragraphs("a\nb") == 1
    assert options_in("Climate\nHealth\n- Sport") == ["climate", "health", "sport"]
    assert options_in("apple, pear and fig") == ["apple", "pear", "fig"] and options_in("one thing") == []
    assert instruction_parts("What is X? Why is it so? ok?") == ["What is X?", "Why is it so?"]


def test_too_short_learns_the_range_per_task_type():
    long = " ".join(["word"] * 200)
    rows = [("Write a story about a fox.", "", long)] * 40 + [("Name a colour.", "", "Red")] * 40
    d = OutputTooShort().fit(Features(_batch(rows)))
    assert d.expected["write"][:3] == (200.0, 200.0, 200.0) and d.expected["write"][3] == 40
    assert d.expected["list"][0] == 1.0
    test = [("Write a story about a dragon.", "", "A dragon slept."), ("Write a story about a cat.", "", long[:600]),
            ("Name a fruit.", "", "Fig"), ("Paint the fence.", "", "Done.")]
    rs = d.score_features(Features(_batch(test)))
    assert d.decide(rs.score).tolist() == [True, False, False, False]
    assert "'write' outputs here run 200-200 words (quartiles of 40 rows)" in rs.reason[0]
    assert np.isnan(rs.score[2]) and np.isnan(rs.score[3])  # short-answer type and "other": not scored
    assert OutputTooShort().score_features(Features(_batch(test))).score.tolist() != [0, 0, 0, 0]  # unfitted: NaN
    assert task_types(Features(_batch(test))).tolist() == [0, 0, 2, 6]


def test_terse_compares_with_the_same_opening_word_else_the_task_type():
    """output_terse: 'tell me ...' rows run 24-36 words (median 30): 5 words is at most a sixth (flagged),
    6 is not; an opening word with too few rows falls back to its task type ("other": the tell rows and the
    'say' rows, median 24); a reference median under 20 words is not scored; a list is never scored. Not
    an error: its family is the quality family."""
    from artifactlens.audits.instructions.detectors import ERROR_TYPES, QUALITY_FAMILY
    tell = [(f"Tell me about river {i}.", "", " ".join(["word"] * (24 if i < 20 else 36))) for i in range(40)]
    short = [(f"Say hello {i}.", "", "hi there") for i in range(30)]
    d = OutputTerse().fit(Features(_batch(tell + short)))
    assert d.by_opening["tell"] == (24.0, 30.0, 36.0, 40) and d.by_opening["say"][1] == 2.0
    assert d.by_type["other"][1] == 24.0
    rs = d.score_features(Features(_batch([
        ("Tell me about a lake.", "", "It is wet and cold."), ("Tell me about a sea.", "", "It is very very very salty."),
        ("Please tell me about a pond.", "", "Small."), ("Recount the war.", "", "It ended."),
        ("Say goodbye.", "", "bye"), ("Give three colours.", "", "red")])))
    assert d.decide(rs.score).tolist() == [True, False, True, True, False, False]
    assert rs.reason[2] == "1 words; 'tell ...' outputs here run 24-36 words (quartiles of 40 rows, median 30)"
    assert rs.score[3] == 2 / 24 and rs.reason[3].startswith("2 words; 'other' outputs here run")
    assert np.isnan(rs.score[4]) and np.isnan(rs.score[5])  # 'say': median 2 < 20; a list: never scored
    assert OutputTerse().score_features(Features(_batch(tell))).score.tolist() != [0.0] * 40  # unfitted: NaN
    assert d.family == QUALITY_FAMILY and d.family not in ERROR_TYPES


def test_terse_is_counted_but_never_an_error(tmp_path):
    """Through the audit: the terse rows carry the flag and its reason, stay out of 'error' and are kept by
    --clean; against revisions that elaborate them, 'flagged' separates raw from revised while 'error'
    does not."""
    import json
    from artifactlens.audits.instructions import audit_instructions
    rows = [{"instruction": f"Tell me about river number {i}.", "input": "",
             "output": " ".join(["The river flows"] * 10)} for i in range(60)]
    rows += [{"instruction": f"Tell me about lake number {i}.", "input": "", "output": "It is wet."} for i in range(12)]
    data, rev = tmp_path / "raw.jsonl", tmp_path / "rev.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    rev.write_text("".join(json.dumps({**r, "output": " ".join(["The river flows"] * 10)}) + "\n" for r in rows),
                   encoding="utf-8")
    res = audit_instructions(data, flags=str(tmp_path / "f.parquet"), near_duplicates=False, quiet=True, revised=rev)
    t = pq.read_table(tmp_path / "f.parquet")
    terse = t.column("output_terse").to_pylist()
    assert sum(terse) == 12 and terse[60:] == [True] * 12
    assert not any(t.column("error").to_pylist()) and all(t.column("keep").to_pylist())
    assert "output_terse" in t.column("flags").to_pylist()[60]
    assert res["error_rate"] == 0.0
    table = {row[0]: row for row in res.tables["revisions"]["rows"]}
    assert table["flagged"][2:6] == pytest.approx([12 / 72, 0.0, 12, 0]) and table["error"][4:6] == [0, 0]
    assert res["revised_flagged_gap"] == pytest.approx(12 / 72)
    assert res["revised_flagged_mcnemar_p"] == pytest.approx(0.5 ** 12)


def test_ray_equals_local_on_every_instruction_follows_check(local_ray, tmp_path):
    """The "output does not follow" detectors (IFEval-style checks, completeness, the revision-derived
    too_few_items / explanation_missing / items_repeated) and the fitted output_too_short, on rows each of
    them flags (the case tables above, with rows of a long-output task type to
    fit on), through the audit with --engine ray: every flag, score and reason as on the local engine,
    every detector flagging, and the --revised comparison the same."""
    import json
    from artifactlens.audits.instructions import audit_instructions
    from artifactlens.audits.instructions.detectors import REGISTRY
    rows = [{"instruction": a, "input": b, "output": c} for flag, miss in CASES.values() for a, b, c, *_ in flag + miss]
    rows += [{"instruction": f"Write a story about fox number {i}.", "input": "", "output": STORY} for i in range(40)]
    rows.append({"instruction": "Write a story about a lazy fox.", "input": "", "output": "A fox slept."})
    data = tmp_path / "follow.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    rev = tmp_path / "rev.jsonl"
    rev.write_text("".join(json.dumps({**r, "output": r["output"] + " (revised)"}) + "\n" for r in rows), encoding="utf-8")
    kw = dict(near_duplicates=False, quiet=True, batch_size=40, revised=rev)
    local = audit_instructions(data, flags=str(tmp_path / "l.parquet"), **kw)
    remote = audit_instructions(data, flags=str(tmp_path / "r.parquet"), engine="ray", **kw)
    a, b = pq.read_table(tmp_path / "l.parquet"), pq.read_table(tmp_path / "r.parquet")
    assert a.num_rows == len(rows) and a.to_pandas().equals(b.to_pandas())  # (NaN scores compare equal here)
    fam = [n for n, c in REGISTRY.items() if c.family == "not_following"]
    assert {"too_few_items", "explanation_missing", "items_repeated", "output_too_short"} <= set(fam)
    assert [n for n in fam if not any(a.column(n).to_pylist())] == []  # every one of them flags here
    assert local.tables["revisions"] == remote.tables["revisions"]
    assert repr({k: (m.value, m.ci) for k, m in local.metrics.items()}) == \
        repr({k: (m.value, m.ci) for k, m in remote.metrics.items()})
