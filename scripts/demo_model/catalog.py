"""The parts catalog the demo tasks look things up in: one small Markdown document per part, written into
examples/automation/docs/ (committed) and indexed by `agentrt index`. Seeded, so the files never change."""
import random

MATERIALS = ["copper", "steel", "brass", "nickel", "carbon", "maple", "granite", "cobalt"]
PARTS = ["hinge", "valve", "gasket", "bracket", "sprocket", "pulley", "bearing", "spindle", "flange", "rivet",
         "washer", "bushing", "coupling", "damper", "nozzle", "piston", "ratchet", "shackle", "spring", "latch",
         "lever", "clamp", "caster", "manifold", "impeller", "gear", "axle", "sleeve", "spacer", "dowel",
         "anchor", "buckle", "collar", "sensor", "switch", "relay", "filter", "hose", "funnel", "gauge",
         "faucet", "trolley", "winch", "pallet", "crate", "ladder", "bucket", "scraper"]
# Parts whose documents exist but that no training conversation mentions: the held-out look-ups.
HELD_OUT_COUNT = 8
# Training-only parts (documents written under the data folder, never committed): with only the 40 bundled
# training parts a small model learns the names by heart and answers a held-out part with a known one; hundreds of
# names, many of them made-up words, leave copying the name from the task as the only way to get it right.
EXTRA_MATERIALS = ["iron", "zinc", "chrome", "titanium", "oak", "pine", "walnut", "cedar", "birch", "rubber",
                   "nylon", "glass", "marble", "ceramic", "silver", "bronze", "tin", "aluminum", "plastic", "leather",
                   "bamboo", "slate", "quartz", "felt", "vinyl", "cork", "basalt", "teak", "pewter", "acrylic"]
EXTRA_NOUNS = ["bolt", "nut", "screw", "pipe", "tube", "wheel", "chain", "belt", "cable", "wire", "plate", "panel",
               "frame", "rail", "beam", "rod", "shaft", "pin", "hook", "knob", "handle", "lid", "cap", "plug",
               "socket", "seal", "ring", "disc", "blade", "drill", "hammer", "wrench", "chisel", "saw", "vise",
               "jack", "hoist", "pump", "motor", "fan", "tank", "drum", "barrel", "basket", "tray", "rack", "shelf",
               "bench", "stool", "cart", "wagon", "kettle", "ladle", "pan", "jar", "bottle", "flask", "lamp",
               "lens", "mirror", "bell", "whistle", "compass", "magnet", "spool", "reel", "hub", "cog", "crank",
               "hatch", "grate", "vent", "duct", "trowel", "mallet", "chute", "hopper", "boiler", "burner",
               "bracket", "trellis", "tripod", "pedal", "lever", "tongs", "pliers", "stapler", "hinge", "padlock"]
ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "pl", "st",
          "tr", "sk", "cl", "fl", "sn", "qu", "ch", "sh", "th", "w", "h"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "oo", "ou", "y"]
CODAS = ["", "", "", "", "n", "r", "l", "s", "x", "m", "t"]


def parts(seed=8):
    rng = random.Random(seed)
    out = []
    for i, noun in enumerate(PARTS):
        name = f"{MATERIALS[i % len(MATERIALS)]} {noun}"
        out.append({"name": name, "file": name.replace(" ", "-") + ".md", "price": rng.randint(3, 99),
                    "weight": rng.randint(20, 950), "stock": rng.randint(5, 400)})
    return out


def split_parts(seed=8):
    all_parts = parts(seed)
    return all_parts[:-HELD_OUT_COUNT], all_parts[-HELD_OUT_COUNT:]


def made_up_word(rng):
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(2 if rng.random() < 0.8 else 3))


def training_parts(count=1200, seed=9):
    """The 40 bundled training parts and `count` more (real and made-up materials and nouns) with drawn values.
    None has a held-out noun; names are unique."""
    rng = random.Random(seed)
    train, held = split_parts()
    banned = {p["name"].split()[1] for p in held}
    names = {p["name"] for p in train + held}
    out = list(train)
    while len(out) < len(train) + count:
        material = rng.choice(MATERIALS + EXTRA_MATERIALS) if rng.random() < 0.6 else made_up_word(rng)
        noun = rng.choice(PARTS[:-HELD_OUT_COUNT] + EXTRA_NOUNS) if rng.random() < 0.5 else made_up_word(rng)
        name = f"{material} {noun}"
        if noun in banned or material in banned or name in names or len(name) > 28:
            continue
        names.add(name)
        out.append({"name": name, "file": name.replace(" ", "-") + ".md", "price": rng.randint(3, 99),
                    "weight": rng.randint(20, 950), "stock": rng.randint(5, 400)})
    return out


# English letter frequencies (per mille), for names that split into the odd pieces an unseen real word does.
LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
LETTER_WEIGHTS = [127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28, 24, 24, 22, 20, 20, 19, 15, 10, 8, 2, 2, 1, 1]


def letter_word(rng):
    """4 to 8 letters drawn by their English frequency, at least one of them a vowel."""
    while True:
        word = "".join(rng.choices(LETTERS, weights=LETTER_WEIGHTS, k=rng.randint(4, 8)))
        if any(v in word for v in "aeiouy"):
            return word


def blend_word(rng):
    """The front of one real noun and the back of another ("hamdle"): real-looking words no data has seen."""
    nouns = PARTS[:-HELD_OUT_COUNT] + EXTRA_NOUNS
    a, b = rng.sample(nouns, 2)
    return a[: rng.randint(1, len(a) - 1)] + b[rng.randint(1, len(b) - 1):]


def fresh_parts(count, seed=10):
    """`count` parts whose nouns no other data names: letter words and blends (a third of the materials made up
    too). The copy drills of a third training stage: after two stages the model copied a known name whole but
    stopped inside an unseen one ("maple ler" for "maple ladder"). No name holds a held-out noun or material."""
    rng = random.Random(seed)
    train, held = split_parts()
    banned = {word for p in held for word in p["name"].split()} - set(MATERIALS)
    names = {p["name"] for p in training_parts() + held}
    out = []
    while len(out) < count:
        material = rng.choice(MATERIALS + EXTRA_MATERIALS) if rng.random() < 0.67 else letter_word(rng)
        noun = letter_word(rng) if rng.random() < 0.5 else blend_word(rng)
        name = f"{material} {noun}"
        if len(noun) < 4 or any(b in name for b in banned) or name in names or len(name) > 28:
            continue
        names.add(name)
        out.append({"name": name, "file": name.replace(" ", "-") + ".md", "price": rng.randint(3, 99),
                    "weight": rng.randint(20, 950), "stock": rng.randint(5, 400)})
    return out


def document(part):
    title = part["name"].capitalize()
    return (f"# {title}\n\nThe {part['name']} costs {part['price']} dollars per unit. "
            f"It weighs {part['weight']} grams. The warehouse holds {part['stock']} units.\n")


if __name__ == "__main__":
    import pathlib
    import sys
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for p in parts():
        (out / p["file"]).write_text(document(p))
    print(f"wrote {len(parts())} documents to {out}")
