"""compare_summary.py (scripts/bench) on made-up results: ratios of medians next to the per-round ratios,
decode against the read rate probed around each run, and the probes' spread."""
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


def llama(rnd, config, decode, probes=None, prefill=50.0):
    row = {"round": rnd, "engine": "llama.cpp", "config": config, "prefill_tok_s": prefill, "decode_tok_s": decode,
           "peak_rss_bytes": 3_900_000_000, "build": "abc123"}
    if probes:
        row["bandwidth_probes_gb_s"] = probes
    return row


def summarise(rows):
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "results.jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        done = subprocess.run([sys.executable, SCRIPT, path, os.path.join(work, "gguf"), "m"],
                              capture_output=True, text=True, check=True)
        return done.stdout


class CompareSummary(unittest.TestCase):
    def test_ratios_of_medians_beside_the_per_round_ratios(self):
        rows = [agentrt(1, "bf16", 12.0, [37.0, 38.0]), llama(1, "F16", 10.0, [36.0, 37.5]),
                agentrt(2, "bf16", 11.0, [36.5, 37.0]), llama(2, "F16", 10.0, [37.0, 36.0]),
                agentrt(3, "bf16", 16.0, [60.0, 70.0]), llama(3, "F16", 8.0, [70.0, 66.0])]
        out = summarise(rows)
        # Medians 12 / 10; per round 1.20, 1.10, 2.00.
        self.assertIn("| bf16 | F16 | 2.00x (median 2.00, 2.00-2.00) | 1.20x (median 1.20, 1.10-2.00) |", out)
        self.assertIn("Read-rate probes during the run (12, the best of 12 passes each): 36.0 to 70.0 GB/s, "
                      "median 37.2", out)
        self.assertIn("| agentrt | bf16 | 100.0 (100.0-100.0) | 12.00 (11.00-16.00) | 0.80 (0.80-0.80) |", out)
        self.assertIn("llama.cpp build: abc123", out)

    def test_a_pair_needs_both_engines(self):
        out = summarise([agentrt(1, "int4", 40.0, [38.0, 70.0]), llama(1, "Q8_0", 18.0)])
        self.assertNotIn("| int4 | Q4_0 |", out)
        self.assertNotIn("| int8 | Q8_0 |", out)
        self.assertIn("| llama.cpp | Q8_0 | 50.0 | 18.00 | - |", out)


if __name__ == "__main__":
    unittest.main()
