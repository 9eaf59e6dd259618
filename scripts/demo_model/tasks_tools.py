"""Task families that use the code interpreter (Lua cells: word problems, number lists, CSV statistics and charts)
and the http tool (a local shipping-quote service, alone and at the end of a look-up chain). Same shape as
tasks.py: the user's words, the calls (thought, tool, parameters; the interpreter's parameter is its code), the
answer template with {rN} for the N-th result, and the value the answer must hold."""
import json

import datasets
from tasks import pick_values, search_call

LUA_WORD_TEMPLATES = [
    ("Ana buys {a} boxes of {b} apples and gives away {c} apples. How many apples does she have left?",
     "apples", "{a} * {b} - {c}", "Ana has {r} apples left."),
    ("A school has {a} classes of {b} students and {c} students are absent. How many students are present?",
     "present", "{a} * {b} - {c}", "{r} students are present."),
    ("A baker makes {a} loaves in the morning and {b} in the afternoon and packs them in bags of {c}. "
     "How many full bags does he get?", "bags", "({a} + {b}) // {c}", "He gets {r} full bags."),
    ("Sam saves {a} dollars a week for {b} weeks and then spends {c} dollars. How many dollars are left?",
     "left", "{a} * {b} - {c}", "Sam has {r} dollars left."),
    ("A garden has {a} rows of {b} tulips and {c} more tulips in pots. How many tulips are there?",
     "tulips", "{a} * {b} + {c}", "There are {r} tulips."),
    ("A train travels {a} km each hour for {b} hours and then {c} km more. How far does it travel?",
     "km", "{a} * {b} + {c}", "The train travels {r} km."),
    ("A farm collects {a} eggs a day for {b} days. How many full dozens of eggs is that?",
     "dozens", "{a} * {b} // 12", "That is {r} full dozens."),
    ("Each ticket costs {a} dollars. A club buys {b} tickets and pays with a {c} dollar discount. "
     "What does it pay?", "paid", "{a} * {b} - {c}", "The club pays {r} dollars."),
]

LIST_TEMPLATES = [
    ("What is the sum of {list}?", "stats.sum(xs)", "The sum is {r}."),
    ("What is the mean of {list}?", "string.format(\"%.2f\", stats.mean(xs))", "The mean is {r}."),
    ("What is the largest of {list}?", "stats.max(xs)", "The largest is {r}."),
    ("What is the median of {list}?", "stats.median(xs)", "The median is {r}."),
    ("Sort {list} from smallest to largest.", "table.sort(xs)\ntable.concat(xs, \", \")", "Sorted: {r}."),
]

CSV_STATS = ["mean", "sum", "max", "min", "median"]

SHIP_URL = "http://127.0.0.1:{port}/quote"


def lua_cell(thought, code):
    return (thought, "interpreter", {"code": code})


def lua_word(rng, split):
    question, var, expr, answer = rng.choice(LUA_WORD_TEMPLATES)
    values = pick_values(rng, split, lambda r: (r.randint(2, 99), r.randint(2, 99), r.randint(2, 99)))
    fill = dict(zip("abc", values))
    if "- {c}" in expr:
        fill["c"] = fill["c"] % (fill["a"] * fill["b"])
    if "// {c}" in expr:
        fill["c"] = 2 + fill["c"] % 11
    e = expr.format(**fill)
    return {"family": "lua_math", "task": question.format(**fill),
            "calls": [lua_cell(f"I will work out {e} in Lua.", f"{var} = {e}\n{var}")],
            "answer": answer.format(r="{r0}")}


def spoken_list(nums):
    return ", ".join(str(n) for n in nums[:-1]) + " and " + str(nums[-1])


def lua_list(rng, split):
    question, expr, answer = rng.choice(LIST_TEMPLATES)
    nums = pick_values(rng, split, lambda r: tuple(r.randint(2, 99) for _ in range(r.randint(3, 6))))
    table = "{" + ", ".join(str(n) for n in nums) + "}"
    return {"family": "lua_list", "task": question.format(list=spoken_list(nums)),
            "calls": [lua_cell(f"I will put {table} in a Lua table.", f"xs = {table}\n{expr}")],
            "answer": answer.format(r="{r0}")}


def csv_stat(rng, split, tables):
    t = rng.choice(tables)
    col, stat = rng.choice(t["columns"]), rng.choice(CSV_STATS)
    code = f"d = csv.read(\"{t['name']}\")\nstring.format(\"%.2f\", stats.{stat}(d, \"{col}\"))"
    return {"family": "csv_stats", "task": f"What is the {stat} of the {col} column in {t['name']}?",
            "calls": [lua_cell(f"I will read {t['name']} and compute the {stat} of {col}.", code)],
            "answer": f"The {stat} of {col} in {t['name']} is {{r0}}."}


def csv_chart(rng, split, tables):
    """The data-analysis example's family: one cell with the total, the mean and a chart in SVG and PNG."""
    t = rng.choice(tables)
    col, kind = rng.choice(t["columns"]), "bar"
    stem = t["name"][:-4] + "_" + col
    label = t["label"]
    code = (f"d = csv.read(\"{t['name']}\")\n"
            f"chart.{kind}{{data = d, x = \"{label}\", y = \"{col}\", file = \"{stem}.svg\", png = true}}\n"
            f"print(\"total\", string.format(\"%.2f\", stats.sum(d, \"{col}\")))\n"
            f"print(\"mean\", string.format(\"%.2f\", stats.mean(d, \"{col}\")))")
    task = (f"Analyse {t['name']}: give the total and the mean of {col} and draw a {kind} chart of {col} by "
            f"{label} as SVG and PNG.")
    return {"family": "csv_chart", "task": task,
            "calls": [lua_cell(f"I will read {t['name']}, sum up {col} and draw it by {label}.", code)],
            "answer": f"The total of {col} is {{total0}} and the mean is {{mean0}}. The chart is saved as "
                      f"{stem}.svg and {stem}.png.",
            "expect": "total0"}


def http_call(thought, port, grams):
    return (thought, "http", {"url": SHIP_URL.format(port=port), "query": {"grams": grams}})


def http_quote(rng, split, ports):
    port = rng.choice(ports)
    grams = pick_values(rng, split, lambda r: (r.randint(20, 9999),))[0]
    url = SHIP_URL.format(port=port)
    task = f"What does it cost to ship a parcel of {grams} grams? The shipping service is at {url}."
    return {"family": "http_quote", "task": task,
            "calls": [http_call(f"I will ask the shipping service at {url} about {grams} grams.", port, grams)],
            "answer": f"Shipping {grams} grams costs {{price0}} dollars and takes {{days0}} days.",
            "expect": "price0"}


def ship_chain(rng, split, parts, ports):
    """Example 1's family: look the part's weight up, multiply by the count, ask the service for a quote."""
    part, port = rng.choice(parts), rng.choice(ports)
    n = pick_values(rng, split, lambda r: (r.randint(2, 60),))[0]
    url = SHIP_URL.format(port=port)
    task = f"What does it cost to ship {n} units of the {part['name']}? The shipping service is at {url}."
    grams = n * part["weight"]
    calc = (f"The {part['name']} weighs {part['weight']} grams. Now I multiply by {n}.", "calculator",
            {"expression": f"{n} * {part['weight']}"})
    quote = http_call(f"The order weighs {grams} grams. I will ask the shipping service at {url}.", port, grams)
    return {"family": "ship_chain", "task": task, "calls": [search_call(part), calc, quote],
            "answer": f"Shipping {n} units of the {part['name']} ({grams} grams) costs {{price2}} dollars.",
            "expect": "price2"}


def result_fields(index, text):
    """Named values a result offers to the answer template: an http JSON body's keys and the interpreter's
    `name<TAB>value` lines, as {name}{index}."""
    fields = {}
    body = text.split("\n\n", 1)[1] if text.startswith("HTTP ") and "\n\n" in text else None
    if body is not None:
        try:
            for key, value in json.loads(body).items():
                fields[f"{key}{index}"] = str(value)
        except (ValueError, AttributeError):
            pass
    for line in text.split("\n"):
        if "\t" in line:
            key, value = line.split("\t", 1)
            fields[f"{key}{index}"] = value
    return fields


def make_tool_task(rng, split, family, parts, ports):
    tables = datasets.tables(split)
    makers = {"lua_math": lambda: lua_word(rng, split), "lua_list": lambda: lua_list(rng, split),
              "csv_stats": lambda: csv_stat(rng, split, tables), "csv_chart": lambda: csv_chart(rng, split, tables),
              "http_quote": lambda: http_quote(rng, split, ports),
              "ship_chain": lambda: ship_chain(rng, split, parts, ports)}
    return makers[family]()
