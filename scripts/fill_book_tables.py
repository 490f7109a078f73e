#!/usr/bin/env python3
"""Fills the measured tables of a book page from a chapter program's results file.

A page marks where a table goes with two HTML comments (Doxygen drops them from the output):

  <!-- table: 10.1 training -->
  ...whatever is there now...
  <!-- end table -->

and this script replaces what lies between them with the table of that title from the results
JSON (the "tables" a chapter program writes with --json), formatted as scripts/gen_book_results.py
formats the results page. An optional column list picks and orders the columns:

  <!-- table: 10.2 optimizers | optimizer, lr, test acc % -->

Usage: fill_book_tables.py PAGE.md RESULTS.json [--check]
With --check nothing is written; the exit code is 1 when the page is not what the results give
(a stale table), naming the table. A marker whose title is not in the results is an error.
"""
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_book_results import cell  # noqa: E402  (one number format for every table)

MARK = re.compile(r"^<!-- table: (?P<title>[^|]+?)(?: \| (?P<cols>.+?))? -->$")
END = "<!-- end table -->"


def table_md(rows: list[dict], columns: list[str] | None) -> list[str]:
    if columns is None:
        columns = []
        for r in rows:
            for k in r:
                if k not in columns:
                    columns.append(k)
    numeric = [all(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
                   or r.get(c) is None for r in rows) for c in columns]
    out = ["| " + " | ".join(c.replace("|", "\\|") for c in columns) + " |",
           "|" + "".join("---:|" if n else "---|" for n in numeric)]
    for r in rows:
        out.append("| " + " | ".join("–" if r.get(c) is None else cell(r.get(c)) for c in columns)
                   + " |")
    return out


def fill(page: str, tables: dict, page_name: str) -> str:
    lines = page.split("\n")
    out, i = [], 0
    while i < len(lines):
        m = MARK.match(lines[i])
        out.append(lines[i])
        i += 1
        if not m:
            continue
        title = m.group("title")
        if title not in tables:
            raise SystemExit(f"fill_book_tables: {page_name}: no table '{title}' in the results "
                             f"(have: {', '.join(tables)})")
        cols = [c.strip() for c in m.group("cols").split(",")] if m.group("cols") else None
        rows = tables[title]["rows"]
        for c in cols or []:
            if rows and all(c not in r for r in rows):
                raise SystemExit(f"fill_book_tables: {page_name}: table '{title}' has no column "
                                 f"'{c}'")
        while i < len(lines) and lines[i] != END:
            if MARK.match(lines[i]):
                raise SystemExit(f"fill_book_tables: {page_name}: '{title}' has no {END}")
            i += 1
        if i == len(lines):
            raise SystemExit(f"fill_book_tables: {page_name}: '{title}' has no {END}")
        out += table_md(rows, cols)
    return "\n".join(out)


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if a != "--check"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    page_path, results_path = Path(args[0]), Path(args[1])
    tables = json.loads(results_path.read_text(encoding="utf-8")).get("tables", {})
    old = page_path.read_text(encoding="utf-8")
    new = fill(old, tables, str(page_path))
    if "--check" in argv:
        if new != old:
            print(f"fill_book_tables: {page_path} is stale against {results_path}; run "
                  f"scripts/fill_book_tables.py {page_path} {results_path}", file=sys.stderr)
            return 1
        return 0
    if new != old:
        page_path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
