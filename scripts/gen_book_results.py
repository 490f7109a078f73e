#!/usr/bin/env python3
"""Turns the measured results in book/results/*.json into the book page "Measured results".

Every chapter program that measures something can write a JSON file (--json) of this shape:

  {"program": "ch00_hello_gpu", "date": "2026-11-24T07:00:00Z",
   "machine": {"cpu": "...", "cores": 2, "gpu": "none", "driver": "none"},
   "backend": "cpu (1 thread)", "parameters": {"n": 16777216},
   "figures": {"saxpy_gbps": 30.2, ...}, "verified": true}

scripts/gpu_check.sh bundles several of them as {"kind": "gpu_check", ..., "results": [...]}.
The page gets one section per program, {#results_<program>}, with one row per result file, so a
chapter page links its measurements with \\ref results_ch00_hello_gpu. Tables in the book are
therefore made from the programs' own output, never typed by hand.

Usage: gen_book_results.py RESULTS_DIR OUTPUT_MD
A file that is not valid JSON, or lacks program/date/figures, is an error naming the file.
"""
import json
import sys
from collections import defaultdict
from pathlib import Path


class ResultError(Exception):
    pass


def load(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultError(f"{path}: not a readable JSON file: {e}") from e
    if not isinstance(data, dict):
        raise ResultError(f"{path}: expected a JSON object at the top level")
    runs = data.get("results") if data.get("kind") == "gpu_check" else [data]
    if not isinstance(runs, list):
        raise ResultError(f"{path}: 'results' must be a list")
    out = []
    for i, run in enumerate(runs):
        where = f"{path}" + (f" (results[{i}])" if data.get("kind") == "gpu_check" else "")
        if not isinstance(run, dict):
            raise ResultError(f"{where}: a result must be a JSON object")
        for key in ("program", "date", "figures"):
            if key not in run:
                raise ResultError(f"{where}: missing '{key}'")
        if not isinstance(run["figures"], dict):
            raise ResultError(f"{where}: 'figures' must be an object of name: number")
        if data.get("kind") == "gpu_check":
            run.setdefault("commit", data.get("commit", ""))
        run["_file"] = path.name
        out.append(run)
    return out


def fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v).replace("|", "\\|")


def render(runs: list[dict]) -> str:
    by_program = defaultdict(list)
    for r in runs:
        by_program[r["program"]].append(r)
    lines = [
        "# Measured results {#results}",
        "",
        "Every number in this book comes from a program in this repository, recorded as JSON in",
        "`book/results/` (machine, date and parameters with each figure) and turned into these",
        "tables by `scripts/gen_book_results.py` when the book is rendered.",
        "",
    ]
    if not by_program:
        lines.append("No results have been recorded yet.")
    for program in sorted(by_program):
        rows = sorted(by_program[program], key=lambda r: (r["date"], r["_file"]))
        figure_names = []
        for r in rows:
            for k in r["figures"]:
                if k not in figure_names:
                    figure_names.append(k)
        lines += [f"## {program} {{#results_{program}}}", ""]
        header = ["date", "CPU", "GPU", "backend", "parameters", *figure_names, "verified", "file"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for r in rows:
            m = r.get("machine", {})
            params = ", ".join(f"{k}={fmt(v)}" for k, v in r.get("parameters", {}).items())
            cells = [r["date"][:10], fmt(m.get("cpu", "?")), fmt(m.get("gpu", "none")),
                     fmt(r.get("backend", "")), params or "-",
                     *[fmt(r["figures"].get(k, "")) for k in figure_names],
                     fmt(r.get("verified", "")), f"`{r['_file']}`"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    results_dir, out = Path(argv[1]), Path(argv[2])
    try:
        runs = [r for p in sorted(results_dir.glob("*.json")) for r in load(p)]
    except ResultError as e:
        print(f"gen_book_results: {e}", file=sys.stderr)
        return 1
    text = render(runs)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        tmp = out.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
