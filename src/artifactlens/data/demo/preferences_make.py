"""Writes preferences.jsonl: 200 pairwise judgments written for the artifactlens demo.

50 prompts x 4 pairs. Each response has a latent quality; people pick the better one (with noise, some
ties). The judge ("gpt-4") is planted with: position bias (a first-shown bonus, so the swapped-order run
disagrees on close pairs), verbosity bias (a bonus per extra word), self-preference (a bonus for gpt-4's
own responses) and 4 unparseable answers. Run: python preferences_make.py (deterministic).
"""
import json
import random
from pathlib import Path

TOPICS = [
    ("How do I keep basil alive indoors?", "Give it six hours of sun, water when the top soil is dry, and pinch the tips."),
    ("Why is the sky blue?", "Air molecules scatter short blue wavelengths of sunlight more than red ones."),
    ("What is a good way to learn a new language?", "Practise a little every day, speak early, and read things you enjoy."),
    ("How should I store fresh bread?", "Keep it in a paper bag at room temperature for two days, then freeze slices."),
    ("What causes inflation?", "Prices rise when demand outpaces supply or money grows faster than output."),
    ("How can I sleep better?", "Keep a regular schedule, a dark cool room, and no screens before bed."),
    ("Why do cats purr?", "Cats purr to communicate contentment and also to soothe themselves when stressed."),
    ("How do vaccines work?", "They train the immune system to recognise a pathogen without causing the disease."),
    ("What is compound interest?", "Interest earned on both the original amount and the interest already added."),
    ("How do I write a cover letter?", "Address the reader, show why you fit the role, and close with a clear request."),
]
GOOD = ["{ref} In short, that is the main point.", "{ref} A simple routine makes this easy to keep up.",
        "The key idea: {ref_l}", "{ref} Many people find this works well within a week."]
BAD = ["I am not sure, it depends on many things.", "It is complicated and there is no single answer to that.",
       "You could search online for more details about this.", "Honestly it does not matter much either way."]
PAD = (" It is worth adding that there are many further considerations, perspectives and nuances here, and that"
       " every situation is different, so you may want to think carefully about all the factors involved.")
MODELS = ["gpt-4", "llama-2", "vicuna", "alpaca"]


def response(rng, ref, quality):
    base = rng.choice(GOOD if quality > 0.5 else BAD).format(ref=ref, ref_l=ref[0].lower() + ref[1:])
    return base + (PAD if rng.random() < 0.45 else "")


def judge_pick(rng, qa, qb, la, lb, own_a, own_b, first_is_a):
    score = qa - qb + 0.012 * (la - lb) + 0.35 * (own_a - own_b) + (0.3 if first_is_a else -0.3)
    score += rng.gauss(0, 0.15)
    return "tie" if abs(score) < 0.05 else ("a" if score > 0 else "b")


def main(out=Path(__file__).with_name("preferences.jsonl")):
    rng = random.Random(7)
    rows = []
    for p in range(50):
        prompt, ref = TOPICS[p % len(TOPICS)]
        prompt = prompt if p < len(TOPICS) else f"{prompt} (asked by user {p})"
        for k in range(4):
            ma, mb = rng.sample(MODELS, 2)
            qa, qb = rng.random(), rng.random()
            a, b = response(rng, ref, qa), response(rng, ref, qb)
            la, lb = len(a.split()), len(b.split())
            d = qa - qb + rng.gauss(0, 0.1)
            human = "tie" if abs(d) < 0.06 else ("a" if d > 0 else "b")
            own_a, own_b = ma == "gpt-4", mb == "gpt-4"
            judge = judge_pick(rng, qa, qb, la, lb, own_a, own_b, True)
            swapped = judge_pick(rng, qa, qb, la, lb, own_a, own_b, False)
            rows.append({"id": len(rows), "prompt": prompt, "reference": ref, "response_a": a, "response_b": b,
                         "model_a": ma, "model_b": mb, "human": human, "judge": judge, "judge_swapped": swapped})
    for i in (17, 88, 131, 190):
        rows[i]["judge"] = rng.choice(["garbage", "", "I cannot decide between these.", "Output (c)"])
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(main())
