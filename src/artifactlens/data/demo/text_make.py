"""Writes ``text.jsonl``: 100 prompts (50 cooking, 50 travel), each answered by a "human" and an "LLM".

Written for artifactlens (not copied from any corpus). Planted artifacts, known by construction: LLM
answers are more formal (nouns, articles, no contractions), use markdown lists and stock phrases
("delve into", "a rich tapestry of", "it is important to note"), more metaphor cues, and are built from
fewer templates (narrower); human answers are chatty (I, you, contractions, hedges, exclamations) and
drawn from more varied parts. Run ``python text_make.py`` to rewrite the file (seeded, deterministic).
"""
import json
import random
from pathlib import Path

TOPICS = {
    "cooking": ["sourdough bread", "risotto", "roast chicken", "pancakes", "chili", "lasagna", "curry",
                "banana bread", "fried rice", "tomato soup", "pad thai", "brownies", "omelette", "paella",
                "ramen", "pizza dough", "pie crust", "hummus", "meatballs", "granola", "pesto", "dumplings",
                "tacos", "scones", "gnocchi"],
    "travel": ["Lisbon", "Kyoto", "Iceland", "a road trip in Utah", "Rome", "a weekend in Paris", "Vietnam",
               "hiking in Patagonia", "Scotland", "a trip to Mexico City", "Istanbul", "New Zealand",
               "the Amalfi coast", "Morocco", "a rail trip across Canada", "Prague", "Bali", "Peru", "Norway",
               "Seoul", "Croatia", "Cape Town", "the Scottish Highlands", "Oaxaca", "Vienna"],
}
ASK = {"cooking": ["How do I make good {t}?", "Any tips for {t} at home?"],
       "travel": ["What should I know before visiting {t}?", "Tips for planning {t}?"]}

H_OPEN = ["Honestly, {t} is easier than people think.", "Ok so I've made {t} a bunch of times.",
          "I'm no expert but here's what worked for me with {t}.", "lol I messed up {t} so many times before it clicked.",
          "My grandma's trick for {t} never fails.", "Depends what you like, but {t} is great.",
          "Don't overthink {t}!", "I went last year and loved it.", "We did {t} with two kids, it was fine.",
          "Short answer: just go for it."]
H_MID = {"cooking": ["Don't skimp on salt, you'll regret it.", "I think the trick is patience, maybe an extra ten minutes.",
                     "Use whatever pan you've got, it's fine.", "You can't really rush it, trust me.",
                     "I kind of eyeball the spices tbh.", "If it's too dry just add a splash of water.",
                     "My oven runs hot so I drop it 20 degrees.", "Buy decent butter, it's worth it.",
                     "Taste as you go, seriously!", "I usually double the garlic because why not."],
         "travel": ["Book the train early, it's way cheaper.", "I'd skip the big tour buses honestly.",
                    "We got lost twice and it was the best part.", "Bring comfy shoes, you'll walk a ton.",
                    "The food near the station was meh, walk a few blocks.", "I guess it depends on your budget.",
                    "Cash helped in the small towns.", "Don't try to see everything in two days!",
                    "Locals were super nice when we tried the language.", "It rained a lot, so pack a jacket."]}
H_END = ["Have fun!", "Good luck!", "You'll be fine.", "Enjoy :)", "Hope that helps!", "That's it really.",
         "Report back!", "Worth it."]

L_OPEN = ["Certainly! {T} is a rewarding endeavor that offers a rich tapestry of experiences.",
          "Great question! Let us delve into the key considerations for {t}.",
          "{T} represents a wonderful opportunity to explore a world of flavors and traditions."]
L_LIST = {"cooking": ["**Quality ingredients:** The selection of fresh, high-quality ingredients is essential.",
                      "**Preparation:** Careful preparation ensures consistency and optimal results.",
                      "**Temperature control:** Precise temperature management is crucial for the desired texture.",
                      "**Seasoning:** The balance of seasoning enhances the overall flavor profile."],
          "travel": ["**Planning:** Thorough research of transportation options is essential for a seamless journey.",
                     "**Cultural awareness:** Respect for local customs fosters meaningful connections.",
                     "**Budgeting:** A comprehensive budget ensures financial peace of mind.",
                     "**Accommodation:** The selection of a central location enhances the overall experience."]}
L_END = ["In conclusion, with careful preparation and attention to detail, {t} can be a truly memorable experience.",
         "It is important to note that individual preferences may vary; however, these guidelines provide a solid "
         "foundation for success.", "Ultimately, {t} is a journey of discovery that unlocks a world of possibilities."]


def make(seed: int = 7):
    rng = random.Random(seed)
    rows = []
    for dom, topics in TOPICS.items():
        for k in range(50):
            t = topics[k % len(topics)]
            q = rng.choice(ASK[dom]).format(t=t)
            pid = f"{dom}-{k:02d}"
            human = " ".join([rng.choice(H_OPEN).format(t=t)] + rng.sample(H_MID[dom], rng.randint(2, 4))
                             + [rng.choice(H_END)])
            items = "\n".join(f"- {x}" for x in rng.sample(L_LIST[dom], 3))
            llm = (rng.choice(L_OPEN).format(t=t, T=t[0].upper() + t[1:]) + "\n\n" + items + "\n\n"
                   + rng.choice(L_END).format(t=t))
            rows.append({"pair_id": pid, "domain": dom, "prompt": q, "source": "human", "text": human})
            rows.append({"pair_id": pid, "domain": dom, "prompt": q, "source": "llm", "text": llm})
    return rows


if __name__ == "__main__":
    out = Path(__file__).with_name("text.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for r in make():
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
