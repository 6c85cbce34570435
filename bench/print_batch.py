"""How long one batch takes: every class journal of a school for a quarter as one PDF.

Simulates a school (grades 1–11, one class per grade unless --parallels, seed 1,
the first quarter), folds its events into the printer's copy, then renders each
class's quarter journal and joins them into one PDF/A with a bookmark per class,
as a ``class_journals`` print job does; prints the seconds per journal, for the
join, and the total.

    .venv/bin/python bench/print_batch.py [--parallels 1] [--zip]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def main() -> None:
    from kozomol.simulator.faults import FaultRates
    from kozomol.simulator.run import SimulationSpec, school_events
    from services.printer.domain.copy import class_copy, fold
    from services.printer.domain.journal import build_journal, class_sort_key, roster_class_name
    from services.printer.render.bundle import Part, one_pdf, one_zip
    from services.printer.render.common import DocumentInfo, register_fonts
    from services.printer.render.journal import render_journal

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parallels", type=int, default=1)
    parser.add_argument("--zip", action="store_true", help="a ZIP instead of one PDF")
    args = parser.parse_args()
    spec = SimulationSpec(seed=1, parallels=args.parallels, grades=tuple(range(1, 12)),
                          terms=(1,), rates=FaultRates.default())
    records: dict = {}
    school_id, count = "", 0
    for event in school_events(spec):
        count += 1
        school_id = school_id or (event["school_id"] if event["school_id"] != "*" else "")
        fold(records, event["type"], event["id"], datetime.fromisoformat(event["occurred_at"]),
             event["data"])
    copies = [class_copy(school_id, r.key, records.values())
              for r in records.values() if r.kind == "class"]
    copies.sort(key=lambda c: class_sort_key(roster_class_name(c)))
    register_fonts(FONT_DIR)
    print(f"simulated {count} events, {len(copies)} classes")
    started = time.perf_counter()
    parts = []
    for copy in copies:
        begun = time.perf_counter()
        journal = build_journal(copy, copy.calendar["terms"][0]["id"])
        pdf = render_journal(journal, FONT_DIR)
        parts.append(Part(f"Классный журнал {journal.class_name}", f"{copy.class_id}.pdf", pdf))
        print(f"  {journal.class_name:>8}: {time.perf_counter() - begun:.2f} s, "
              f"{pdf.pages} pages")
    joined_at = time.perf_counter()
    bundle = one_zip(parts) if args.zip else one_pdf(parts, DocumentInfo("Журналы", "бенчмарк"))
    done = time.perf_counter()
    print(f"join ({'zip' if args.zip else 'one PDF'}): {done - joined_at:.2f} s; "
          f"total {done - started:.1f} s for {len(parts)} journals, {bundle.pages} pages, "
          f"{len(bundle.body) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
