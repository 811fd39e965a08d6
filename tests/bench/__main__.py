"""`python -m tests.bench [--only SECTION ...]`: run benchmark sections and print their tables.

A section is a module with TITLE and run() -> list of rows {"metric", "unit", "runs"}, or (rows, notes) with
notes a list of lines printed under the title; the table shows the median of the runs. Add a section by
adding it to SECTIONS.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys

SECTIONS = {
    "twin": "tests.bench.twin",
    "fleet": "tests.bench.fleet",
    "scene": "tests.bench.scene",
    "vision": "tests.bench.vision",
    "drift": "tests.bench.drift",
    "capture-fleet": "tests.bench.capture_fleet",
}


def render(title: str, rows: list[dict], notes: list[str] | tuple[str, ...] = ()) -> str:
    header = ("metric", "median", "runs", "unit")
    body = [(r["metric"], f"{statistics.median(r['runs']):.{r.get('digits', 2)}f}",
             " ".join(f"{v:.{r.get('digits', 2)}f}" for v in r["runs"]), r["unit"]) for r in rows]
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(4)]

    def fmt(line):
        return "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([title, "", *([*notes, ""] if notes else []), fmt(header), rule, *map(fmt, body), ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only this section")
    args = parser.parse_args(argv)
    for name in args.only or list(SECTIONS):
        module = importlib.import_module(SECTIONS[name])
        result = module.run()
        rows, notes = result if isinstance(result, tuple) else (result, ())
        print(render(module.TITLE, rows, notes), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
