"""Many printed documents as one download: one PDF/A with a bookmark per document, or a
ZIP of the PDFs under names a person can read."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

import pikepdf

from services.printer.render.common import DocumentInfo, RenderedPdf, finish_pdfa


@dataclass(frozen=True)
class Part:
    title: str       # the bookmark: «Классный журнал 5 «А»»
    file_name: str   # the name inside a ZIP
    pdf: RenderedPdf


def one_pdf(parts: list[Part], info: DocumentInfo) -> RenderedPdf:
    """The parts one after the other; the outline has one entry per part, opening it."""
    merged = pikepdf.new()
    starts = []
    for part in parts:
        starts.append(len(merged.pages))
        with pikepdf.open(io.BytesIO(part.pdf.body)) as source:
            merged.pages.extend(source.pages)
    with merged.open_outline() as outline:
        for part, start in zip(parts, starts, strict=True):
            outline.root.append(pikepdf.OutlineItem(part.title, start))
    raw = io.BytesIO()
    merged.save(raw)
    body, pages = finish_pdfa(raw.getvalue(), info)
    return RenderedPdf(body, pages, hashlib.sha256(body).hexdigest())


def one_zip(parts: list[Part]) -> RenderedPdf:
    """A ZIP of the parts (names made unique); ``pages`` counts every part's pages."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in parts:
            name, number = part.file_name, 2
            while name in used:
                stem, _, extension = part.file_name.rpartition(".")
                name, number = f"{stem}_{number}.{extension}", number + 1
            used.add(name)
            archive.writestr(name, part.pdf.body)
    body = buffer.getvalue()
    return RenderedPdf(body, sum(p.pdf.pages for p in parts), hashlib.sha256(body).hexdigest())
