"""A contents page with the page of every section, without laying the document out twice.

ReportLab's ``TableOfContents`` lays the whole story out until the page numbers
settle (three passes for a class journal). Here the story is laid out once with
blank pages reserved where the contents go (as many as the contents need,
measured on a trial with three-digit page numbers); the contents, now with the
pages the :class:`Bookmark` flowables landed on, are then laid out on their own
and drawn onto the reserved pages, whose header and sheet number the first
layout already drew.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf
from reportlab.platypus import Flowable, PageBreak, Paragraph

from services.printer.render.common import (
    Bookmark,
    DocumentInfo,
    RenderedPdf,
    RunningHead,
    finish_pdfa,
    lay_out,
    style,
    text_width,
)

HEADING = style(12, font="Sans-Bold", space_after=6)
LEVEL_FONTS = {1: ("Sans-Bold", 9.5), 2: ("Sans", 8.5)}


class Contents(Flowable):
    """Where the contents go in a story; ``after`` follows them (e.g. the legend)."""

    def __init__(self, after: Sequence[Flowable] = ()) -> None:
        super().__init__()
        self.after = list(after)
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:  # only a marker: build_with_contents replaces it
        raise RuntimeError("Contents must be laid out by build_with_contents")


class _Reserved(Flowable):
    """A page left blank for the contents; notes which page it is."""

    def __init__(self, pages: list[int]) -> None:
        super().__init__()
        self.pages = pages

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return available_width, available_height - 1

    def draw(self) -> None:
        self.pages.append(self.canv.getPageNumber())


class _Line(Flowable):
    """One contents line: the title (indented by level), a dotted leader, the page."""

    HEIGHT = 12.5

    def __init__(self, level: int, title: str, page: str) -> None:
        super().__init__()
        self.level, self.title, self.page = level, title, page

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.HEIGHT

    def draw(self) -> None:
        font, size = LEVEL_FONTS.get(self.level, LEVEL_FONTS[2])
        canvas, indent = self.canv, 14.0 * max(0, self.level - 1)
        canvas.setFont(font, size)
        canvas.drawString(indent, 3, self.title)
        canvas.drawRightString(self.width, 3, self.page)
        start = indent + text_width(self.title, font, size) + 4
        end = self.width - text_width(self.page, font, size) - 4
        if end > start:
            canvas.setLineWidth(0.6)
            canvas.setDash(0.6, 2.4)
            canvas.line(start, 3, end, 3)


def _contents_story(entries: Sequence[tuple[int, str, str]], after: Sequence[Flowable],
                    ) -> list[Any]:
    return [Paragraph("Содержание", HEADING),
            *(_Line(level, title, page) for level, title, page in entries), *after]


def build_with_contents(story: list[Any], head: RunningHead, info: DocumentInfo, *,
                        wide: bool, font_dir: Path) -> RenderedPdf:
    """Lay out ``story`` once, its :class:`Contents` filled with the real page numbers."""
    index = next(i for i, item in enumerate(story) if isinstance(item, Contents))
    marker: Contents = story[index]
    titles = [(b.level, b.title) for b in story if isinstance(b, Bookmark) and b.in_contents]
    trial, _ = lay_out(_contents_story([(lvl, t, "999") for lvl, t in titles], marker.after),
                       None, info, wide=wide, font_dir=font_dir)
    with pikepdf.open(io.BytesIO(trial)) as measured:
        needed = len(measured.pages)
    reserved: list[int] = []
    blanks: list[Any] = []
    for number in range(needed):
        blanks += [_Reserved(reserved)] + ([PageBreak()] if number < needed - 1 else [])
    raw, entries = lay_out([*story[:index], *blanks, *story[index + 1:]], head, info,
                           wide=wide, font_dir=font_dir)
    filled, _ = lay_out(_contents_story([(lvl, t, str(page)) for lvl, t, page in entries],
                                        marker.after), None, info, wide=wide,
                        font_dir=font_dir)
    with pikepdf.open(io.BytesIO(raw)) as pdf, pikepdf.open(io.BytesIO(filled)) as drawn:
        if len(drawn.pages) != len(reserved):
            raise RuntimeError("the contents did not fit the pages reserved for them")
        for page_number, page in zip(reserved, drawn.pages, strict=True):
            target = pdf.pages[page_number - 1]
            target.add_overlay(page, pikepdf.Rectangle(target.mediabox))
        out = io.BytesIO()
        pdf.save(out)
    body, pages = finish_pdfa(out.getvalue(), info)
    return RenderedPdf(body, pages, hashlib.sha256(body).hexdigest())
