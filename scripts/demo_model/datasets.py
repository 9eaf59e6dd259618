"""The CSV files the demo tasks analyse: small tables named <topic>_<year>.csv with one label column and a few
numeric columns, drawn from a seed. Training tasks use one set of files, held-out tasks another (names and
numbers never seen in training), and the data-analysis example's file belongs to the held-out kind."""
import csv
import functools
import hashlib
import io
import random

TOPICS = ["sales", "orders", "visits", "energy", "rainfall", "tickets", "traffic", "deliveries"]
LABELS = {
    "month": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "region": ["north", "south", "east", "west", "central"],
    "store": ["harbor", "market", "station", "airport", "museum", "campus", "plaza"],
    "team": ["red", "blue", "green", "yellow", "orange", "purple"],
    "day": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}
NUMERIC = ["units", "revenue", "cost", "visitors", "hours", "profit", "returns", "calls"]
# Training-only files: more topics, label kinds and columns, so that the model copies the file, column and label
# names from the task instead of recalling which columns the few files it saw had (held-out files keep the lists
# above, so they and the example file stay exactly as they were).
EXTRA_TOPICS = ["shipments", "payments", "repairs", "rentals", "signups", "downloads", "refunds", "bookings",
                "harvests", "flights", "patients", "lessons", "meals", "loans", "claims", "parcels", "concerts",
                "museum", "library", "bakery", "garage", "clinic", "farm", "hotel"]
EXTRA_LABELS = {
    "city": ["Oslo", "Lima", "Cairo", "Perth", "Quito", "Riga", "Dakar", "Hanoi"],
    "shift": ["early", "late", "night", "weekend"],
    "product": ["tea", "coffee", "juice", "water", "soda", "milk", "cocoa"],
    "week": ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"],
    "quarter": ["Q1", "Q2", "Q3", "Q4"],
    "route": ["A1", "B2", "C3", "D4", "E5", "F6"],
    "site": ["alpha", "beta", "gamma", "delta", "omega"],
    "class": ["junior", "senior", "expert", "novice"],
}
EXTRA_NUMERIC = ["weight", "distance", "score", "price", "minutes", "tickets", "members", "errors", "clicks",
                 "sessions", "miles", "boxes", "pages", "guests", "seats", "trips", "items", "points", "liters",
                 "kwh", "orders", "visits", "staff", "bikes", "cars", "rooms", "hits", "fees"]
# The data-analysis example (examples/data) reads this file; no training task ever does.
EXAMPLE_FILE = "sales_2025.csv"


def held_out(name):
    return name == EXAMPLE_FILE or hashlib.sha256(name.encode()).digest()[0] % 6 == 0


def make_table(name, seed):
    """{"name", "label", "columns", "rows"} of one file; deterministic in (name, seed)."""
    rng = random.Random(f"{seed}:{name}")
    extra = name.split("_")[0] in EXTRA_TOPICS
    labels = {**LABELS, **EXTRA_LABELS} if extra else LABELS
    label = rng.choice(sorted(labels))
    values = labels[label]
    n = rng.randint(min(4, len(values)), len(values))
    start = rng.randint(0, len(values) - n)
    columns = rng.sample(NUMERIC + EXTRA_NUMERIC if extra else NUMERIC, rng.randint(2, 3))
    if name == EXAMPLE_FILE:
        label, values, n, start, columns = "month", LABELS["month"], 12, 0, ["units", "revenue"]
    rows = [[values[start + i]] + [rng.randint(5, 999) for _ in columns] for i in range(n)]
    return {"name": name, "label": label, "columns": columns, "rows": rows}


def csv_text(table):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([table["label"]] + table["columns"])
    w.writerows(table["rows"])
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def tables(split, seed=11):
    names = [f"{t}_{y}.csv" for t in TOPICS for y in range(2001, 2031)]
    out = [make_table(n, seed) for n in names if held_out(n) == (split == "eval")]
    if split == "train":
        out += [make_table(f"{t}_{y}.csv", seed) for t in EXTRA_TOPICS for y in range(2001, 2031)]
    return out


def write(folder, split, seed=11):
    folder.mkdir(parents=True, exist_ok=True)
    for t in tables(split, seed):
        (folder / t["name"]).write_text(csv_text(t))
