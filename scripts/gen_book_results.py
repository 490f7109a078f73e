#!/usr/bin/env python3
"""Turns the measured results in book/results/*.json into the book page "Measured results".

Every chapter program that measures something can write a JSON file (--json) of this shape:

  {"program": "ch00_hello_gpu", "date": "2026-11-24T07:00:00Z",
   "machine": {"cpu": "...", "cores": 2, "gpu": "none", "driver": "none"},
   "backend": "cpu (1 thread)", "parameters": {"n": 16777216},
   "figures": {"saxpy_gbps": 30.2, ...}, "verified": true}

A result may also carry "tables": {"<title>": {"rows": [{"column": value, ...}, ...]}}, rendered as
one table per title under the run. Google Benchmark's own JSON (--benchmark_out) is understood
too: its "benchmarks" become a table, with the run's context (host, CPUs, date).
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
    if "benchmarks" in data and "context" in data:
        return [from_google_benchmark(data, path)]
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


def from_google_benchmark(data: dict, path: Path) -> dict:
    """Google Benchmark JSON → one result whose table has a row per benchmark."""
    ctx = data["context"]
    if not isinstance(data["benchmarks"], list):
        raise ResultError(f"{path}: 'benchmarks' must be a list")
    rows = []
    skip = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads",
            "family_index", "per_family_instance_index", "aggregate_name", "aggregate_unit",
            "iterations", "cpu_time", "time_unit", "label", "error_occurred", "error_message"}
    for b in data["benchmarks"]:
        if not isinstance(b, dict) or "name" not in b:
            raise ResultError(f"{path}: a benchmark entry lacks 'name'")
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        row = {"benchmark": b["name"], f"time ({b.get('time_unit', 'ns')})": b.get("real_time")}
        row.update({k: v for k, v in b.items() if k not in skip and k != "real_time"
                    and isinstance(v, (int, float))})
        rows.append(row)
    program = Path(str(ctx.get("executable", path.stem))).name
    caches = ", ".join(f"L{c.get('level')} {c.get('size', 0) // 1024} KiB"
                       for c in ctx.get("caches", []) if c.get("type") != "Instruction")
    return {"program": program, "date": str(ctx.get("date", "")),
            "machine": {"cpu": f"{ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz"
                               + (f" ({caches})" if caches else ""), "gpu": "none"},
            "backend": "Google Benchmark", "figures": {},
            "tables": {"benchmarks": {"rows": rows}}, "_file": path.name}


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
        for r in rows:
            for title, table in (r.get("tables") or {}).items():
                lines += render_table(f"{title} ({r['date'][:10]}, `{r['_file']}`)", table)
    return "\n".join(lines) + "\n"


def cell(v) -> str:
    if isinstance(v, list):
        return "×".join(fmt(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}={fmt(x)}" for k, x in v.items())
    return fmt(v)


def is_scalar(v) -> bool:
    return not isinstance(v, (dict, list)) or (
        isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v))


def table_lines(title: str, rows: list[dict]) -> list[str]:
    columns = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    out = [f"### {title}", ""]
    if not rows:
        return out + ["(no rows)", ""]
    out.append("| " + " | ".join(columns) + " |")
    out.append("|" + "---|" * len(columns))
    for r in rows:
        out.append("| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |")
    return out + [""]


def render_table(title: str, table) -> list[str]:
    """Renders a table value: a list of row objects; or an object whose scalar fields form one
    row, whose "rows" list is the table, and whose other object or list fields are sub-tables."""
    if isinstance(table, list):
        if not all(isinstance(r, dict) for r in table):
            raise ResultError(f"table '{title}': a list must hold row objects")
        return table_lines(title, [{k: v for k, v in r.items() if is_scalar(v)} for r in table])
    if not isinstance(table, dict):
        raise ResultError(f"table '{title}': expected an object or a list of rows")
    out = []
    scalars = {k: v for k, v in table.items() if is_scalar(v)}
    if "rows" in table:
        out += render_table(title, table["rows"])
        if scalars:
            out += table_lines(f"{title}: summary", [scalars])
    elif scalars:
        out += table_lines(title, [scalars])
    for k, v in table.items():
        if k != "rows" and not is_scalar(v):
            out += render_table(f"{title}: {k}", v)
    return out


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
    try:
        text = render(runs)
    except ResultError as e:
        print(f"gen_book_results: {e}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        tmp = out.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
