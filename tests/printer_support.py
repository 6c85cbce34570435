"""Helpers of the printer's tests: simulated journals, and opening the PDFs they print."""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2
from pypdf import PdfReader

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, school_events
from services.printer.domain.copy import Record, fold

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@cache
def simulated(grades: tuple[int, ...] = (5,), terms: tuple[int, ...] = (1,),
              seed: int = 11) -> tuple[dict[str, Any], ...]:
    """One school's events (a class per grade), faults included (deletions, corrections)."""
    spec = SimulationSpec(seed=seed, parallels=1, grades=grades, terms=terms,
                          rates=FaultRates.default())
    return tuple(school_events(spec))


def fold_all(events: Any) -> dict[tuple[str, str], Record]:
    records: dict[tuple[str, str], Record] = {}
    for event in events:
        fold(records, event["type"], event["id"], datetime.fromisoformat(event["occurred_at"]),
             event["data"])
    return records


def school_of(events: Any) -> str:
    return next(e["school_id"] for e in events if e["school_id"] != "*")


def latest(events: Any, event_type: str, key: str) -> dict[str, dict[str, Any]]:
    """The newest data of each entity of one type (what a correct copy must show)."""
    best: dict[str, tuple[tuple[str, str], dict[str, Any]]] = {}
    for event in events:
        if event["type"] != event_type:
            continue
        stamp = (datetime.fromisoformat(event["occurred_at"]).isoformat(), event["id"])
        entity = event["data"][key]
        if entity not in best or stamp > best[entity][0]:
            best[entity] = (stamp, event["data"])
    return {entity: data for entity, (_, data) in best.items()}


def page_texts(body: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages]


def font_report(body: bytes) -> list[tuple[str, bool]]:
    """(base font, embedded?) of every font used on any page."""
    found = []
    with pikepdf.open(io.BytesIO(body)) as pdf:
        for page in pdf.pages:
            fonts = page.Resources.get("/Font", {})
            for _, font in fonts.items():
                descriptor = font.get("/FontDescriptor")
                if descriptor is None and "/DescendantFonts" in font:
                    descriptor = font.DescendantFonts[0].get("/FontDescriptor")
                embedded = descriptor is not None and any(
                    key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
                found.append((str(font.get("/BaseFont")), embedded))
    return found


def pdfa_report(body: bytes) -> dict[str, Any]:
    """What PDF/A-2b needs that can be checked without veraPDF."""
    with pikepdf.open(io.BytesIO(body)) as pdf:
        meta = pdf.open_metadata()
        intents = pdf.Root.get("/OutputIntents", [])
        info = pdf.docinfo
        pairs = {"/Title": meta.get("dc:title"), "/Author": ", ".join(meta.get("dc:creator")),
                 "/Subject": meta.get("dc:description"), "/Keywords": meta.get("pdf:Keywords"),
                 "/Creator": meta.get("xmp:CreatorTool"), "/Producer": meta.get("pdf:Producer")}
        return {
            "docinfo_matches_xmp": all(str(info.get(key, "")) == str(value)
                                       for key, value in pairs.items()),
            "metadata_unfiltered": "/Filter" not in pdf.Root.Metadata,
            "has_id": "/ID" in pdf.trailer,
            "part": meta.get("pdfaid:part"),
            "conformance": meta.get("pdfaid:conformance"),
            "title": meta.get("dc:title"),
            "docinfo_title": str(pdf.docinfo.get("/Title", "")),
            "intents": [str(i.get("/S")) for i in intents],
            "icc_bytes": [len(i.DestOutputProfile.read_bytes()) for i in intents],
            "encrypted": pdf.is_encrypted,
        }


def ink(body: bytes, page: int, png: Path) -> int:
    """Render one page to PNG; how many pixels are not white."""
    document = pypdfium2.PdfDocument(body)
    image = document[page].render(scale=1).to_pil().convert("L")
    image.save(png)
    document.close()
    histogram = image.histogram()
    return sum(histogram[:200])


def fill_rate_report(rows: int = 60, wide: bool = False) -> dict[str, Any]:
    """A report.ready's data as docs/reports.md describes it."""
    columns = [
        {"key": "class_id", "title": "Класс", "definition": None},
        {"key": "subject", "title": "Предмет", "definition": None},
        {"key": "teacher", "title": "Учитель", "definition": None},
        {"key": "lessons", "title": "Уроков", "definition": "уроков в периоде"},
        {"key": "topic_share", "title": "Доля тем вовремя",
         "definition": "уроки с темой в день урока / все уроки"},
    ]
    if wide:
        columns += [{"key": f"extra{i}", "title": f"Показатель {i}", "definition": None}
                    for i in range(1, 8)]
    return {
        "report_id": "rep-1", "kind": "fill_rate",
        "title": "Заполнение журнала за период",
        "parameters": {"date_from": "2026-11-16", "date_to": "2026-11-28"},
        "summary": [["Период", "16.11.2026 – 28.11.2026"], ["Класс", "все"]],
        "scope": None, "requested_by": "schedule",
        "as_of": "2026-11-28T10:00:00+00:00", "generated_at": "2026-11-28T10:00:02+00:00",
        "tables": [{
            "name": "rows", "title": "Классы, предметы, учителя",
            "columns": columns,
            "rows": [{"class_id": f"{5 + i % 6}a", "subject": "Кыргыз тили",
                      "teacher": f"Төрөбекова Айнура Үсөновна {i}", "lessons": 10 + i,
                      "topic_share": 0.875, **{f"extra{k}": k * i for k in range(1, 8)}}
                     for i in range(rows)],
        }, {"name": "empty", "title": "Без замечаний", "columns": columns[:2], "rows": []}],
    }
