"""Tests of scripts/fill_book_tables.py: a page's marked tables filled from its results file."""
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import fill_book_tables as f  # noqa: E402

RESULTS = {"tables": {"10.1 training": {"rows": [
    {"epoch": 1, "test acc %": 83.79, "ok": True, "note": "a|b", "lr": None},
    {"epoch": 2, "test acc %": 85.5, "ok": False, "note": "c", "lr": 1e-4}]}}}


class Fill(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        (self.root / "r.json").write_text(json.dumps(RESULTS))

    def tearDown(self):
        self.tmp.cleanup()

    def page(self, body: str) -> str:
        return "text\n<!-- results: r.json -->\n" + body

    def test_fills_all_columns_with_numeric_ones_right_aligned(self):
        out = f.fill(self.page("<!-- table: 10.1 training -->\nold\n<!-- end table -->\nafter"),
                     self.root, "p.md")
        self.assertIn("| epoch | test acc % | ok | note | lr |\n|---:|---:|---|---|---:|", out)
        self.assertIn("| 1 | 83.79 | yes | a\\|b | – |", out)
        self.assertIn("| 2 | 85.5 | **no** | c | 0.0001 |", out)
        self.assertNotIn("old", out)
        self.assertTrue(out.endswith("<!-- end table -->\nafter"))

    def test_a_column_list_picks_and_orders(self):
        out = f.fill(self.page("<!-- table: 10.1 training | test acc %, epoch -->\n"
                               "<!-- end table -->"), self.root, "p.md")
        self.assertIn("| test acc % | epoch |\n|---:|---:|\n| 83.79 | 1 |", out)

    def test_filling_twice_changes_nothing(self):
        once = f.fill(self.page("<!-- table: 10.1 training -->\n<!-- end table -->"), self.root,
                      "p.md")
        self.assertEqual(f.fill(once, self.root, "p.md"), once)

    def test_errors_name_the_problem(self):
        cases = {
            "<!-- table: 10.1 training -->\n": "has no <!-- end table -->",
            "<!-- table: 9.9 nope -->\n<!-- end table -->": "no table '9.9 nope'",
            "<!-- table: 10.1 training | bogus -->\n<!-- end table -->": "no column 'bogus'",
        }
        for body, message in cases.items():
            with self.assertRaises(SystemExit) as e:
                f.fill(self.page(body), self.root, "p.md")
            self.assertIn(message, str(e.exception))
        with self.assertRaises(SystemExit) as e:
            f.fill("<!-- table: 10.1 training -->\n<!-- end table -->", self.root, "p.md")
        self.assertIn("before any <!-- results: PATH -->", str(e.exception))
        with self.assertRaises(SystemExit) as e:
            f.fill("<!-- results: missing.json -->\n", self.root, "p.md")
        self.assertIn("cannot read missing.json", str(e.exception))

    def test_a_page_without_markers_is_unchanged(self):
        self.assertEqual(f.fill("plain | table |\n", self.root, "p.md"), "plain | table |\n")


if __name__ == "__main__":
    unittest.main()
