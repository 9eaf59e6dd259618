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
