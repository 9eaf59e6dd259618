"""The synthetic task families of the demo model. Each generator returns a task: the user's words, the tool calls
a careful agent makes (thought, tool, parameters), how the final answer is written from the tool results, and the
value the answer must hold. Tool results are filled in later by running the real tools (tool_runner.py).

Held-out split: the templates are shared, the values are not. Arithmetic operands come from disjoint ranges of a
keyed hash; look-ups of held-out parts only ever appear in the evaluation set."""
import hashlib
import random

import catalog


def held_out(*values):
    """True for about one value tuple in eight: those belong to the evaluation split only."""
    digest = hashlib.sha256(repr(values).encode()).digest()
    return digest[0] % 8 == 0


def pick_values(rng, split, draw):
    while True:
        values = draw(rng)
        if held_out(*values) == (split == "eval"):
            return values


ARITH_TEMPLATES = [
    ("What is {a} + {b}?", "{a} + {b}"),
    ("What is {a} - {b}?", "{a} - {b}"),
    ("What is {a} * {b}?", "{a} * {b}"),
    ("Compute {a} * {b} + {c}.", "{a} * {b} + {c}"),
    ("Calculate ({a} + {b}) * {c}.", "({a} + {b}) * {c}"),
    ("What is {a} * {b} - {c}?", "{a} * {b} - {c}"),
    ("Please work out {a} + {b} + {c}.", "{a} + {b} + {c}"),
    ("How much is {a} times {b}?", "{a} * {b}"),
    ("What is {a} minus {b}?", "{a} - {b}"),
    ("What is the sum of {a} and {b}?", "{a} + {b}"),
]

WORD_TEMPLATES = [
    ("A crate holds {a} bottles. How many bottles are in {b} crates?", "{a} * {b}",
     "There are {r} bottles in {b} crates."),
    ("Mia has {a} stickers and buys {b} more. How many stickers does she have now?", "{a} + {b}",
     "Mia has {r} stickers now."),
    ("A tank holds {a} liters. After {b} liters are used, how many liters are left?", "{a} - {b}",
     "{r} liters are left."),
    ("A bus carries {a} people on each trip. How many people does it carry in {b} trips?", "{a} * {b}",
     "It carries {r} people in {b} trips."),
    ("Tom reads {a} pages a day for {b} days and then {c} more pages. How many pages does he read in all?",
     "{a} * {b} + {c}", "Tom reads {r} pages in all."),
    ("A shop sells {a} pens on Monday and {b} pens on Tuesday. How many pens does it sell on both days?",
     "{a} + {b}", "The shop sells {r} pens on both days."),
    ("A farmer has {a} rows of {b} trees and cuts down {c} trees. How many trees are left?", "{a} * {b} - {c}",
     "{r} trees are left."),
    ("Each box weighs {a} kilograms. What do {b} boxes weigh?", "{a} * {b}", "{b} boxes weigh {r} kilograms."),
]

# The user's own spelling of a product that the calculator refuses; the agent retries with '*'.
TYPO_TEMPLATES = [
    ("What is {a} x {b}?", "{a} x {b}"),
    ("Compute {a} x {b} + {c}.", "{a} x {b} + {c}"),
    ("How much is {a} x {b}?", "{a} x {b}"),
]

CALC_THOUGHT = "I will compute {e} with the calculator."
RETRY_THOUGHT = "The calculator could not read that expression. I will write the product with * instead."


def operands(rng, n):
    big = rng.random() < 0.5
    return tuple(rng.randint(2, 999 if big else 99) for _ in range(n))


def arithmetic(rng, split):
    question, expr = rng.choice(ARITH_TEMPLATES)
    n = 3 if "{c}" in expr else 2
    values = pick_values(rng, split, lambda r: operands(r, n))
    fill = dict(zip("abc", values))
    expression = expr.format(**fill)
    return {"family": "arithmetic", "task": question.format(**fill),
            "calls": [(CALC_THOUGHT.format(e=expression), "calculator", {"expression": expression})],
            "answer": expression + " = {r0}. The answer is {r0}."}


def word_problem(rng, split):
    question, expr, answer = rng.choice(WORD_TEMPLATES)
    n = 3 if "{c}" in question else 2
    values = pick_values(rng, split, lambda r: operands(r, n))
    fill = dict(zip("abc", values))
    # Quantities left over stay positive.
    if expr == "{a} - {b}" and fill["a"] <= fill["b"]:
        fill["a"], fill["b"] = fill["b"] + 1, fill["a"]
    if expr == "{a} * {b} - {c}":
        fill["c"] = fill["c"] % (fill["a"] * fill["b"])
    expression = expr.format(**fill)
    return {"family": "word_problem", "task": question.format(**fill),
            "calls": [(CALC_THOUGHT.format(e=expression), "calculator", {"expression": expression})],
            "answer": answer.format(r="{r0}", **fill)}


def typo_retry(rng, split):
    question, expr = rng.choice(TYPO_TEMPLATES)
    n = 3 if "{c}" in expr else 2
    values = pick_values(rng, split, lambda r: operands(r, n))
    fill = dict(zip("abc", values))
    bad = expr.format(**fill)
    good = bad.replace(" x ", " * ")
    return {"family": "error_retry", "task": question.format(**fill),
            "calls": [(CALC_THOUGHT.format(e=bad), "calculator", {"expression": bad}),
                      (RETRY_THOUGHT, "calculator", {"expression": good})],
            "answer": good + " = {r1}. The answer is {r1}."}


def search_call(part):
    return (f"I will look up the {part['name']} in the local documents.", "search",
            {"query": part["name"], "top_k": 1})


LOOKUP_TEMPLATES = [
    ("What does the {p} cost?", "price", "The {p} costs {v} dollars per unit."),
    ("How much is one {p}?", "price", "The {p} costs {v} dollars per unit."),
    ("How much does the {p} weigh?", "weight", "The {p} weighs {v} grams."),
    ("How many units of the {p} does the warehouse hold?", "stock", "The warehouse holds {v} units of the {p}."),
]


def lookup(rng, split, parts):
    question, field, answer = rng.choice(LOOKUP_TEMPLATES)
    part = rng.choice(parts)
    return {"family": "lookup", "task": question.format(p=part["name"]), "calls": [search_call(part)],
            "answer": answer.format(p=part["name"], v=part[field]), "expected": str(part[field])}


CHAIN2_TEMPLATES = [
    ("What do {n} units of the {p} cost?", "price", "{n} * {v}", "{n} units of the {p} cost {r} dollars.",
     "The {p} costs {v} dollars per unit. Now I multiply by {n}."),
    ("What is the total weight in grams of {n} units of the {p}?", "weight", "{n} * {v}",
     "{n} units of the {p} weigh {r} grams.", "The {p} weighs {v} grams. Now I multiply by {n}."),
    ("If {n} units of the {p} are shipped, how many stay in the warehouse?", "stock", "{v} - {n}",
     "{r} units of the {p} stay in the warehouse.", "The warehouse holds {v} units. Now I subtract {n}."),
]


def chain2(rng, split, parts):
    question, field, expr, answer, thought = rng.choice(CHAIN2_TEMPLATES)
    part = rng.choice(parts)
    limit = part["stock"] if field == "stock" else 60
    n = pick_values(rng, split, lambda r: (r.randint(2, max(2, limit)),))[0]
    fill = {"n": n, "p": part["name"], "v": part[field]}
    return {"family": "chain2", "task": question.format(**fill),
            "calls": [search_call(part), (thought.format(**fill), "calculator", {"expression": expr.format(**fill)})],
            "answer": answer.format(r="{r1}", **{k: v for k, v in fill.items()})}


def chain3(rng, split, parts):
    p1, p2 = rng.sample(parts, 2)
    n1, n2 = pick_values(rng, split, lambda r: (r.randint(2, 40), r.randint(2, 40)))
    task = f"What do {n1} units of the {p1['name']} and {n2} units of the {p2['name']} cost together?"
    expression = f"{n1} * {p1['price']} + {n2} * {p2['price']}"
    second = (f"The {p1['name']} costs {p1['price']} dollars. I will look up the {p2['name']} next.", "search",
              {"query": p2["name"], "top_k": 1})
    third = (f"The {p2['name']} costs {p2['price']} dollars. Now I add up the total.", "calculator",
             {"expression": expression})
    return {"family": "chain3", "task": task, "calls": [search_call(p1), second, third],
            "answer": f"{n1} units of the {p1['name']} and {n2} units of the {p2['name']} cost {{r2}} dollars."}


FAMILIES = {"arithmetic": 3, "word_problem": 2, "error_retry": 2, "lookup": 2, "chain2": 2, "chain3": 2,
            "lua_math": 3, "lua_list": 2, "csv_stats": 2, "csv_chart": 2, "http_quote": 2, "ship_chain": 3}


def make_task(rng, split, ports, parts, families=None):
    """One task of a family drawn by FAMILIES' weights (among `families` when given); `ports` are the shipping
    service's ports of this split, `parts` the catalog parts its look-ups may name."""
    import tasks_tools
    names = [f for f in FAMILIES if families is None or f in families]
    family = rng.choices(names, weights=[FAMILIES[f] for f in names])[0]
    makers = {"arithmetic": arithmetic, "word_problem": word_problem, "error_retry": typo_retry}
    if family in makers:
        return makers[family](rng, split)
    makers = {"lookup": lookup, "chain2": chain2, "chain3": chain3}
    if family in makers:
        return makers[family](rng, split, parts)
    return tasks_tools.make_tool_task(rng, split, family, parts, ports)
