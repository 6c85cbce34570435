"""How fast the printer prints a full-year class journal, and how much memory it takes.

Simulates one school year of a 7th-grade class with 35 students and 15 subjects
(seed 1), folds its events into the printer's copy, then renders the whole-year
class journal (PDF/A-2b) several times in a fresh process and prints, per run,
the seconds, the pages and pages per second, and the process's peak resident
memory (which includes Python and the imports). A second mode measures the
Python heap's peak of one render with tracemalloc.

    .venv/bin/python bench/print_journal.py [--runs 5] [--output journal.pdf]
"""

from __future__ import annotations

import argparse
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def prepare(path: Path) -> None:
    from kozomol.simulator.faults import FaultRates
    from kozomol.simulator.run import SimulationSpec, school_events
    from services.printer.domain.copy import class_copy, fold

    spec = SimulationSpec(seed=1, parallels=1, grades=(7,), terms=(1, 2, 3, 4),
                          rates=FaultRates.default())
    records: dict = {}
    school_id = ""
    count = 0
    for event in school_events(spec):
        count += 1
        school_id = school_id or (event["school_id"] if event["school_id"] != "*" else "")
        fold(records, event["type"], event["id"], datetime.fromisoformat(event["occurred_at"]),
             event["data"])
    class_id = next(r.key for r in records.values() if r.kind == "class")
    copy = class_copy(school_id, class_id, records.values())
    print(f"simulated {count} events: class {class_id}, {len(copy.roster['students'])} "
          f"students, {len({p['subject_id'] for p in copy.plans})} subjects, "
          f"{len(copy.lessons)} lessons, {len(copy.marks)} marks")
    path.write_bytes(pickle.dumps(copy))


def render(path: Path, output: Path | None, heap: bool) -> None:
    from services.printer.domain.journal import build_journal
    from services.printer.render.common import register_fonts
    from services.printer.render.journal import render_journal

    copy = pickle.loads(path.read_bytes())  # noqa: S301 (our own file, just written)
    register_fonts(FONT_DIR)
    if heap:
        tracemalloc.start()
    started = time.perf_counter()
    pdf = render_journal(build_journal(copy), FONT_DIR)
    seconds = time.perf_counter() - started
    peak_heap = tracemalloc.get_traced_memory()[1] / 1e6 if heap else 0.0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{seconds:.3f} {pdf.pages} {len(pdf.body)} {rss:.1f} {peak_heap:.1f}")
    if output is not None:
        output.write_bytes(pdf.body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--render", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--heap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        render(args.render, args.output, args.heap)
        return
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "class.pickle"
        prepare(data)
        results = []
        for run in range(args.runs):
            line = subprocess.run(
                [sys.executable, __file__, "--render", str(data),
                 *(["--output", str(args.output)] if args.output and run == 0 else [])],
                check=True, capture_output=True, text=True).stdout.split()
            seconds, pages, size, rss = float(line[0]), int(line[1]), int(line[2]), \
                float(line[3])
            results.append((seconds, rss))
            print(f"run {run + 1}: {seconds:.2f} s, {pages} pages ({pages / seconds:.0f} "
                  f"pages/s), {size / 1e6:.2f} MB file, peak RSS {rss:.0f} MB")
        heap = subprocess.run([sys.executable, __file__, "--render", str(data), "--heap"],
                              check=True, capture_output=True, text=True).stdout.split()
        median = statistics.median(s for s, _ in results)
        print(f"median {median:.2f} s ({pages / median:.0f} pages/s), "
              f"peak RSS {max(r for _, r in results):.0f} MB, "
              f"Python heap peak of one render {float(heap[4]):.0f} MB "
              f"(traced run: {float(heap[0]):.2f} s)")


if __name__ == "__main__":
    main()
