"""compare_summary.py (scripts/bench) on made-up results: ratios of medians, and the per-level decode ratios
when the machine's read rate took two levels during the run."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "bench",
                      "compare_summary.py")


def agentrt(rnd, config, decode, probes, prefill=100.0):
    return {"round": rnd, "engine": "agentrt", "config": config, "prefill_tok_s": prefill, "decode_tok_s": decode,
            "decode_fraction_of_bound": 0.8, "bandwidth_gb_s": max(probes), "bandwidth_probes_gb_s": probes,
            "prefill_cpu_share": 0.9, "decode_cpu_share": 0.95, "peak_rss_bytes": 3_600_000_000}


def llama(rnd, config, decode, probes, prefill=50.0):
    return {"round": rnd, "engine": "llama.cpp", "config": config, "prefill_tok_s": prefill, "decode_tok_s": decode,
            "peak_rss_bytes": 3_900_000_000, "bandwidth_probes_gb_s": probes, "build": "abc123"}


def summarise(rows):
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "results.jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        done = subprocess.run([sys.executable, SCRIPT, path, os.path.join(work, "gguf"), "m"],
                              capture_output=True, text=True, check=True)
        return done.stdout


def row_of(text, start):
    return next(line for line in text.splitlines() if line.startswith(start))


class CompareSummary(unittest.TestCase):
    def test_one_level_gives_ratios_of_medians_and_no_level_table(self):
        rows = [agentrt(1, "bf16", 12.0, [37.0, 38.0]), llama(1, "F16", 10.0, [36.0, 37.5]),
                agentrt(2, "bf16", 11.0, [36.5, 37.0]), llama(2, "F16", 10.0, [37.0, 36.0])]
        out = summarise(rows)
        self.assertIn("| bf16 | F16 | 2.00x (2.00-2.00) | 1.15x (1.10-1.20) |", out)
        self.assertNotIn("two levels", out)
        self.assertIn("llama.cpp build: abc123", out)

    def test_two_levels_give_ratios_inside_each_level_only(self):
        rows = [
            # Round 1 all at the low level, round 2 all high, round 3 llama.cpp's run straddles both.
            agentrt(1, "bf16", 10.0, [38.0, 39.0]), llama(1, "F16", 10.0, [37.0, 38.5]),
            agentrt(2, "bf16", 16.0, [70.0, 71.0]), llama(2, "F16", 12.8, [72.0, 70.5]),
            agentrt(3, "bf16", 16.0, [71.0, 70.0]), llama(3, "F16", 9.0, [38.0, 71.0]),
        ]
        out = summarise(rows)
        self.assertIn("two levels during the run: 38.0 and 71.0 GB/s (probes below and above 52.2)", out)
        # Ratios of medians mix the levels; the level table does not.
        self.assertIn("| bf16 | F16 | 2.00x (2.00-2.00) | 1.60x (1.00-1.78) |", out)
        self.assertEqual(row_of(out, "| bf16 | F16 | 1.00x (n=1)"), "| bf16 | F16 | 1.00x (n=1) | 1.25x (n=1) |")

    def test_runs_without_probes_are_left_out_of_the_levels(self):
        rows = [agentrt(1, "int4", 40.0, [38.0, 70.0]), llama(1, "Q4_0", 32.0, [70.0, 71.0])]
        out = summarise(rows)
        self.assertIn("| int4 | Q4_0 | - (n=0) | - (n=0) |", out)


if __name__ == "__main__":
    unittest.main()
