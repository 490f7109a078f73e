"""Tests of scripts/gen_book_results.py: result files → the book's "Measured results" page."""
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import gen_book_results as g  # noqa: E402

RUN = {"program": "ch09_demo", "date": "2026-11-24T07:00:00Z",
       "machine": {"cpu": "Xeon", "gpu": "none"}, "backend": "cpu", "parameters": {"n": 3},
       "figures": {"gbps": 12.5}, "verified": True,
       "tables": {"2.5 sums": {"rows": [{"n": 1000, "err": 1e-7, "shape": [2, 3]}]}}}

BENCH = {"context": {"date": "2026-11-24T07:00:00+00:00", "executable": "/x/ch02_bench",
                     "num_cpus": 2, "mhz_per_cpu": 2400,
                     "caches": [{"type": "Data", "level": 1, "size": 32768}]},
         "benchmarks": [{"name": "BM_engine/1024", "run_type": "iteration", "real_time": 25.0,
                         "cpu_time": 25.0, "time_unit": "ms", "iterations": 10, "GFLOPS": 85.9}]}


class Render(unittest.TestCase):
    def write(self, d: Path, name: str, obj) -> Path:
        p = d / name
        p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
        return p

    def test_runs_become_sections_with_figures_and_tables(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.md"
            self.write(Path(tmp), "a.json", RUN)
            self.assertEqual(g.main(["x", tmp, str(out)]), 0)
            text = out.read_text()
            self.assertIn("## ch09_demo {#results_ch09_demo}", text)
            self.assertIn("| 2026-11-24 | Xeon | none | cpu | n=3 | 12.5 | yes | `a.json` |", text)
            self.assertIn("### 2.5 sums (2026-11-24, `a.json`)", text)
            self.assertIn("| 1000 | 1e-07 | 2×3 |", text)

    def test_google_benchmark_json_is_understood(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.md"
            self.write(Path(tmp), "bench.json", BENCH)
            self.assertEqual(g.main(["x", tmp, str(out)]), 0)
            text = out.read_text()
            self.assertIn("## ch02_bench {#results_ch02_bench}", text)
            self.assertIn("| BM_engine/1024 | 25 | 85.9 |", text)
            self.assertIn("L1 32 KiB", text)

    def test_corrupt_or_incomplete_files_are_errors_naming_the_file(self):
        for name, content in [("bad.json", "{not json"), ("partial.json", {"program": "p"}),
                              ("list.json", [1, 2]), ("figs.json", {**RUN, "figures": [1]})]:
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                self.write(Path(tmp), name, content)
                with self.assertRaises(g.ResultError) as ctx:
                    g.load(Path(tmp) / name)
                self.assertIn(name, str(ctx.exception))

    def test_empty_results_dir_still_makes_the_page(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.md"
            self.assertEqual(g.main(["x", tmp, str(out)]), 0)
            self.assertIn("No results have been recorded yet.", out.read_text())


if __name__ == "__main__":
    unittest.main()
