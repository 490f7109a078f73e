#!/usr/bin/env python3
"""Fills the measured tables of a book page from a chapter program's results file.

A page names its results file, then marks where each table goes, with HTML comments (Doxygen
drops them from the output):

  <!-- results: book/results/ch10_training_xeon-spr-2core_2026-11-24.json -->
  <!-- table: 10.1 training -->
  ...whatever is there now...
  <!-- end table -->

This script replaces what lies between the two table markers with the table of that title from
the results file named last above it (the "tables" a chapter program writes with --json),
formatted as scripts/gen_book_results.py formats the results page. An optional column list picks
and orders the columns:

  <!-- table: 10.2 optimizers | optimizer, lr, test acc % -->

Usage: fill_book_tables.py [--check] PAGE.md...
With --check nothing is written; the exit code is 1 when a page is not what its results give (a
stale table). A page without markers is left alone. A missing results file, a title that is not
in it, or an unclosed marker is an error naming the page.
"""
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_book_results import cell  # noqa: E402  (one number format for every table)

RESULTS = re.compile(r"^<!-- results: (?P<path>\S+) -->$")
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


def fill(page: str, root: Path, page_name: str) -> str:
    lines = page.split("\n")
    out, i, tables, source = [], 0, None, None
    while i < len(lines):
        r = RESULTS.match(lines[i])
        if r:
            source = r.group("path")
            try:
                data = json.loads((root / source).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as e:
                raise SystemExit(f"fill_book_tables: {page_name}: cannot read {source}: {e}")
            tables = data.get("tables", {})
        m = MARK.match(lines[i])
        out.append(lines[i])
        i += 1
        if not m:
            continue
        title = m.group("title")
        if tables is None:
            raise SystemExit(f"fill_book_tables: {page_name}: table '{title}' comes before any "
                             "<!-- results: PATH --> line")
        if title not in tables:
            raise SystemExit(f"fill_book_tables: {page_name}: no table '{title}' in {source} "
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
    check = "--check" in argv
    pages = [Path(a) for a in argv[1:] if a != "--check"]
    if not pages:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parent.parent
    stale = 0
    for page in pages:
        old = page.read_text(encoding="utf-8")
        new = fill(old, root, str(page))
        if new == old:
            continue
        if check:
            print(f"fill_book_tables: {page} has tables that differ from its results file; run "
                  f"scripts/fill_book_tables.py {page}", file=sys.stderr)
            stale += 1
        else:
            page.write_text(new, encoding="utf-8")
            print(f"fill_book_tables: updated {page}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
