"""Every instruction detector: rows it must flag and near-miss rows it must leave alone.

The counts here are the "Tests: k/k, 0/m" precision figures quoted in each detector's docstring.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from artifactlens.audits.instructions.dedupe import Deduplicator
from artifactlens.audits.instructions.detectors import REGISTRY, Features

# name: (must flag [(instruction, input, output)], near misses [(instruction, input, output)])
CASES = {
    "instruction_empty": (
        [("", "", "A poem."), ("Poem.", "", "The sea is wide."), ("   ", "", "Sure.")],
        [("Summarize.", "A long article about rivers.", "Rivers matter."), ("Name three fruits.", "", "Apple, pear, fig"),
         ("Translate to French:", "Good morning", "Bonjour")]),
    "instruction_truncated": (
        [("Write a story about a dragon and the", "", "Once..."), ("Explain the difference between cats and", "", "x"),
         ("List the causes of (the war", "", "Debt."), ('Rewrite the phrase "hello world', "", "Hi world.")],
        [("Provide a list of ingredients to fill a burrito with", "", "Rice, beans."),
         ("Question: when did Yao Ming retire?\nAnswer:", "", "2011."),
         ("What are you looking for?", "", "Keys."), ("Write a poem (four lines) about rain.", "", "Rain...")]),
    "instruction_garbled": (
        [("asdkjh qwe ;;;;;;;; @@@ ### !!", "", "?"), ("Wrïte Ã© pÃ¶em Ã¢bout thÃ© sÃ©a", "", "x"),
         ("%%% $$$ ^^^ &&& *** ((( )))", "", "Done."), ("Explain qwertyuiopasdfghjklzxcvbnmqwerty now", "", "x")],
        [("Compute 3 * (4 + 5) / 2.", "", "13.5"), ("Visit https://example.com/averyveryverylongpathsegmentname", "", "ok"),
         ("Écris un poème sur la mer.", "", "La mer..."), ("Is 2 + 2 = 4?", "", "Yes.")]),
    "instruction_placeholder": (
        [("Write a blog post about {topic}.", "", "x"), ("Summarize <insert text here>.", "", "x"),
         ("Email [your name] about the meeting.", "", "x"), ("Lorem ipsum dolor sit amet.", "", "x")],
        [("Format the string '{name}' in Python.", "", "x"), ("Write a JSON template with {id}.", "", "x"),
         ("Write about your name and its history.", "", "x")]),
    "input_missing": (
        [("Summarize the following text.", "", "x"), ("Translate this sentence into Spanish.", "<noinput>", "Hola"),
         ("Sort the given list in descending order.", "", "9, 7"), ("Classify the sentiment of the above review.", "N/A", "Positive")],
        [("Summarize the following text: Rivers carry water to the sea.", "", "x"),
         ('Write a sentence using the word "happy".', "", "x"), ("Summarize the following text.", "Rivers...", "x"),
         ("Describe the function of the heart.", "", "It pumps blood.")]),
    "input_unused": (
        [("Name the largest ocean.", "Name the largest ocean.", "Pacific"), ("Write a haiku.", "<input>", "x"),
         ("Write a haiku.", "Input:", "x")],
        [("Which type of potato is best for frying?", "I want crispy hash browns.", "Russet."),
         ("Summarize the text.", "Rivers carry water.", "x"), ("Write a haiku.", "", "x")]),
    "output_empty": (
        [("Describe a sunset.", "", ""), ("Name a color.", "", "..."), ("Name a color.", "", "  - ")],
        [("What is 2 + 2?", "", "4"), ("Pick A or B.", "", "B"), ("Reply with an emoji.", "", "😊")]),
    "output_truncated": (
        [("Explain photosynthesis.", "", "Plants use sunlight, water and carbon dioxide to make glucose and"),
         ("Describe the water cycle.", "", "Water evaporates from lakes, rises, cools and condenses, then falls as the"),
         ("Write code.", "", "Here it is:\n```python\nprint(1)\n")],
        [("Write an email.", "", "Hi all,\n\nDinner is on Friday at eight, see you there.\n\nLooking forward to seeing you,"),
         ("Write a script.", "", "var d = new Date();\nconsole.log(d.toLocaleString());"),
         ("Pick an option.", "", "The answer is A"), ("What is love?", "", "Love is patient, love is kind and it is what we live for")]),
    "output_copies_prompt": (
        [("Write a quote about learning.", "", "Write a quote about learning."),
         ("Paraphrase the sentence.", "The meeting moved to Friday.", "The meeting moved to Friday."),
         ("Write a quote about learning.", "", "write a quote about learning!")],
        [("Correct the grammar.", "She goes home.", "She goes home."),
         ("Add emojis to the text.", "Cute cat", "🐱 Cute cat"), ("Repeat after me.", "", "Repeat after me, please!")]),
    "output_refusal": (
        [("Write a poem.", "", "As an AI language model, I cannot write poems."),
         ("Favourite colour?", "", "I'm sorry, but I cannot have preferences."),
         ("Weather in Paris?", "", "I don't have access to real-time data."),
         ("Who are you?", "", "I am a chatbot trained by OpenAI.")],
        [("Describe a crush.", "", "I can't help but be drawn to her."),
         ("Who founded OpenAI?", "", "OpenAI was co-founded by Sam Altman, Elon Musk and others."),
         ("Write a line of dialogue.", "", "The robot said: I cannot feel pain.")]),
    "output_template_leak": (
        [("Give a synonym for happy.", "", "Joyful\n\n### Instruction:\nGive a synonym for sad."),
         ("Name a painter.", "", "Monet\nInput: Name a composer.\nOutput: Mozart"),
         ("Suggest a bakery name.", "", "Sweet Crumbs<|endoftext|>"), ("Name a river.", "", "Nile</s>")],
        [("Give an example of input and output for a sorting function.", "", "Input: 3, 1\nOutput: 1, 3"),
         ("Write a dialogue between a human and an assistant.", "", "Human: hi\nAssistant: hello"),
         ("Explain the word input.", "", "An input is data given to a program.")]),
    "output_wrong_language": (
        [("Describe the benefits of water.", "", "Beber agua ayuda a mantener la temperatura del cuerpo y mejora la digestión y las articulaciones."),
         ("Explain why sleep is important.", "", "Le sommeil permet au cerveau de consolider la mémoire et aide le corps à récupérer."),
         ("Describe Berlin.", "", "Berlin ist die Hauptstadt Deutschlands und hat viele Museen, Parks und eine lange Geschichte.")],
        [("Translate into French: good morning, how are you today my friend?", "", "Bonjour, comment allez-vous aujourd'hui mon ami ?"),
         ("Give examples of Italian dishes.", "", "- Risotto alla milanese\n- Spaghetti alla carbonara\n- Ossobuco\n- Tiramisù"),
         ("Write in Spanish about the sea.", "", "El mar es grande y azul, y las olas llegan a la playa cada mañana."),
         ("Describe the sea.", "", "The sea is wide and blue, and the waves reach the beach every morning.")]),
    "output_format_mismatch": (
        [("Return the data as JSON with keys city and country.", "Paris is in France.", "city: Paris, country: France"),
         ("Name three colors of the rainbow.", "", "1. Red\n2. Orange\n3. Yellow\n4. Green"),
         ("Describe the weather in one word.", "", "It is sunny and warm with a breeze."),
         ("Answer yes or no: is the sky green?", "", "Maybe, it depends.")],
        [("Return the data as JSON.", "Paris, France", '```json\n{"city": "Paris"}\n```'),
         ("Name three colors of the rainbow.", "", "Red, orange and yellow."),
         ("Describe the weather in one word.", "", "Sunny."), ("Write three sentences about cats.", "", "Cats purr. Cats nap.")]),
    "output_not_in_options": (
        [("Classify the review as positive, negative or neutral.", "Loved it.", "Excellent"),
         ("Answer with yes or no: is the sky green?", "", "Maybe"),
         ("Classify the animal as a mammal, bird or reptile.", "salmon", "Fish")],
        [("Classify the review as positive, negative or neutral.", "Loved it.", "Positive."),
         ("Is the statement true or false? Decide whether it holds.", "The sun is cold.", "False"),
         ("Choose the correct answer (A/B/C).", "2+2? A) 3 B) 4 C) 5", "B"),
         ("Classify the animal as a mammal, bird or reptile.", "owl", "It is a bird.")]),
    "arithmetic_wrong": (
        [("What is 17 * 23?", "", "17 * 23 = 381"), ("Calculate 250 - 75.", "", "The result is 165."),
         ("Convert 10 km to miles.", "", "About 16.1 miles."), ("Convert 30 degrees Celsius to Fahrenheit.", "", "76 °F")],
        [("What is 17 * 23?", "", "391"), ("Convert 10 km to miles.", "", "About 6.21 miles."),
         ("Solve 2x + 3 = 7.", "", "x = 2"), ("Write a cover letter.", "Phone: (123) 456-7891", "Dear hiring manager, 56")]),
    "list_task_wrong": (
        [("Sort the following numbers in ascending order.", "42, 7, 19, 3", "3, 19, 7, 42"),
         ("How many vowels are in the given word?", "education", "There are 3 vowels."),
         ("Reverse the given string.", "planet", "tenlap"), ("How many words are in this sentence?", "I like green tea", "5")],
        [("Sort the following numbers in ascending order.", "42, 7, 19, 3", "3, 7, 19, 42"),
         ("How many vowels are in the given word?", "education", "5"), ("Reverse the given string.", "planet", "tenalp"),
         ("Select the longest sentence by number of words.", "(1) A b. (2) A b c d.", "2")]),
    "code_syntax_error": (
        [("Write a Python function that adds two numbers.", "", "```python\ndef add(a, b)\n    return a + b\n```"),
         ("Write a JavaScript function.", "", "```javascript\nfunction f(x) {\n  return 2 * x;\n```"),
         ("Write Python code to print hello.", "", "print 'hello'\nprint 'bye'"),
         ("Give a JSON example.", "", '```json\n{"a": 1,}\n```')],
        [("Write a Python function that adds two numbers.", "", "```python\ndef add(a, b):\n    return a + b\n```"),
         ("Write a JavaScript function.", "", "```js\nfunction f(x) { return '}' + x; }\n```"),
         ("Explain Python lists.", "", "A list holds items, e.g. [1, 2, 3]. Lists are mutable.")]),
}


def _batch(rows):
    return pa.RecordBatch.from_pydict({"instruction": [r[0] for r in rows], "input": [r[1] for r in rows],
                                       "output": [r[2] for r in rows], "source": ["t"] * len(rows),
                                       "group": list(range(len(rows))), "row": list(range(len(rows)))})


def _flags(name, rows):
    d = REGISTRY[name]()
    rs = d.score_features(Features(_batch(rows)))
    flag = d.decide(rs.score)
    assert len(rs.reason) == len(rows)
    assert all(rs.reason[i] for i in np.flatnonzero(flag)), "every flagged row has a reason"
    return flag


@pytest.mark.parametrize("name", sorted(CASES))
def test_detector_flags_planted_rows(name):
    flag = _flags(name, CASES[name][0])
    assert flag.all(), [r for r, f in zip(CASES[name][0], flag) if not f]


@pytest.mark.parametrize("name", sorted(CASES))
def test_detector_leaves_near_misses(name):
    flag = _flags(name, CASES[name][1])
    assert not flag.any(), [r for r, f in zip(CASES[name][1], flag) if f]


def test_every_registered_detector_is_tested():
    paper = {n: c for n, c in REGISTRY.items()  # not_following and the quality flag: test_instructions_following.py
             if c.family not in ("not_following", "below_expert_standard")}
    assert set(paper) - {"output_irrelevant"} <= set(CASES)  # output_irrelevant: test_instructions.py (MiniLM)
    for cls in paper.values():
        assert cls.family in ("incomprehensible_instruction", "inconsistent_input", "inconsistent_output",
                              "incorrect_output")
        assert "Tests:" in cls.__doc__


def test_duplicates_exact_near_and_not():
    d = Deduplicator()
    rows = [("Write a poem about the sea.", ""), ("write a poem about the sea!", ""),  # exact (case, punctuation)
            ("Give three tips for staying healthy in winter months at home.", ""),
            ("Give three tips for staying healthy in the winter months at home.", ""),  # near
            ("Classify the animal.", "whale"), ("Classify the animal.", "frog"),  # same instruction, other input
            ("What is 57 - 72?", ""), ("What is 72 - 57?", "")]  # same words, other order
    b = pa.RecordBatch.from_pydict({"instruction": [r[0] for r in rows], "input": [r[1] for r in rows]})
    score, why = d.score(b, np.arange(len(rows)))
    assert score.tolist() == [0, 1.0, 0, 0.8, 0, 0, 0, 0]
    assert why[1] == "same task as row 0" and "row 2" in why[3]
    # across batches: state carries over
    s2, _ = d.score(b.slice(0, 1), np.array([100]))
    assert s2.tolist() == [1.0]
