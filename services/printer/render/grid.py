"""A plain ruled table drawn straight onto the canvas, split across pages by rows.

ReportLab's platypus ``Table`` spends most of a journal's time on per-cell
machinery (a class-year grid has ~50,000 cells); this flowable draws the rules
as a few lines and each page's text in one text object, wraps long texts to
their column (never squeezing a column), and repeats the header rows on every
page it continues on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.colors import Color
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from services.printer.render.common import GRID, SHADE

PAD = 1.6


@dataclass
class GridStyle:
    font: str = "Narrow"
    bold: str = "Narrow-Bold"
    size: float = 7.0
    leading: float = 8.2
    min_row: float = 12.0
    #: per column: "L" (left) or "C" (centred); missing columns are centred
    align: Sequence[str] = ()
    #: columns whose long texts wrap onto several lines (others are fitted)
    wrap: frozenset[int] = frozenset()
    #: body columns drawn bold on a shade (final marks)
    emphasised: frozenset[int] = frozenset()
    #: a smaller font for one column (long names), same row height
    column_size: dict[int, float] = field(default_factory=dict)


class Grid(Flowable):
    """Header rows (a ``None`` cell is covered by the one to its left) and body rows."""

    def __init__(self, widths: Sequence[float], header: Sequence[Sequence[str | None]],
                 rows: Sequence[Sequence[str]], grid_style: GridStyle | None = None) -> None:
        super().__init__()
        self.widths = list(widths)
        self.header = [list(row) for row in header]
        self.rows = [list(row) for row in rows]
        self.style = grid_style or GridStyle()
        self.width = sum(self.widths)
        self._edges = [0.0]
        for width in self.widths:
            self._edges.append(self._edges[-1] + width)
        self.header_size = self._header_size()
        self._header_lines = [self._lines(row, header=True) for row in self.header]
        self._header_heights = [self._height(lines) for lines in self._header_lines]
        self._body_lines: list[list[list[str]]] | None = None
        self._body_heights: list[float] = []

    # measuring ----------------------------------------------------------------
    def _header_size(self) -> float:
        """The header's font size: its longest word fits its column (down to 4.5 pt)."""
        size = self.style.size
        for row in self.header:
            for index, text in enumerate(row):
                for word in (text or "").split():
                    room = self._span_width(row, index) - 2 * PAD
                    wide = stringWidth(word, self.style.bold, size)
                    if wide > room:
                        size = max(4.5, size * room / wide)
        return size

    def _span_width(self, row: Sequence[str | None], index: int) -> float:
        width = self.widths[index]
        for follower in range(index + 1, len(row)):
            if row[follower] is not None:
                break
            width += self.widths[follower]
        return width

    def _lines(self, row: Sequence[str | None], *, header: bool = False) -> list[list[str]]:
        style = self.style
        out: list[list[str]] = []
        for index, text in enumerate(row):
            if not text:
                out.append([])
                continue
            if header or index in style.wrap:
                font = style.bold if header else style.font
                size = self.header_size if header else style.column_size.get(index, style.size)
                width = (self._span_width(row, index) if header else self.widths[index]) - 2 * PAD
                out.append(simpleSplit(text, font, size, width) or [""])
            else:
                out.append([text])
        return out

    def _height(self, lines: list[list[str]]) -> float:
        most = max((len(cell) for cell in lines), default=1)
        return max(self.style.min_row, most * self.style.leading + 2 * PAD)

    def _measure(self) -> None:
        if self._body_lines is None:
            self._body_lines = [self._lines(row) for row in self.rows]
            self._body_heights = [self._height(lines) for lines in self._body_lines]

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self._measure()
        self.height = sum(self._header_heights) + sum(self._body_heights)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        self._measure()
        room = available_height - sum(self._header_heights)
        fits = 0
        for height in self._body_heights:
            if room < height:
                break
            room -= height
            fits += 1
        if fits == 0 or fits == len(self.rows):
            return []
        return [Grid(self.widths, self.header, self.rows[:fits], self.style),
                Grid(self.widths, self.header, self.rows[fits:], self.style)]

    # drawing ------------------------------------------------------------------
    def draw(self) -> None:
        self._measure()
        assert self._body_lines is not None
        canvas, style = self.canv, self.style
        total = sum(self._header_heights) + sum(self._body_heights)
        edges = [0.0]
        for width in self.widths:
            edges.append(edges[-1] + width)
        canvas.saveState()
        # shades: header rows, emphasised body columns
        canvas.setFillColor(SHADE)
        header_height = sum(self._header_heights)
        canvas.rect(0, total - header_height, self.width, header_height, stroke=0, fill=1)
        for column in style.emphasised:
            canvas.rect(edges[column], 0, self.widths[column], total - header_height,
                        stroke=0, fill=1)
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.3)
        path = canvas.beginPath()
        top = total
        for row, height in zip(self.header, self._header_heights, strict=True):
            path.moveTo(0, top)
            path.lineTo(self.width, top)
            for index, text in enumerate(row):
                if index == 0 or text is not None:
                    path.moveTo(edges[index], top)
                    path.lineTo(edges[index], top - height)
            path.moveTo(self.width, top)
            path.lineTo(self.width, top - height)
            top -= height
        body_top = top
        for height in self._body_heights:
            path.moveTo(0, top)
            path.lineTo(self.width, top)
            top -= height
        path.moveTo(0, top)
        path.lineTo(self.width, top)
        for edge in edges:
            path.moveTo(edge, body_top)
            path.lineTo(edge, 0)
        canvas.drawPath(path, stroke=1, fill=0)
        canvas.setFillColor(Color(0, 0, 0))
        text = canvas.beginText()
        top = total
        for row, lines, height in zip(self.header, self._header_lines, self._header_heights,
                                      strict=True):
            self._texts(text, [(i, lines[i], self._span_width(row, i))
                               for i in range(len(row)) if row[i] is not None],
                        top, height, header=True)
            top -= height
        for lines, height in zip(self._body_lines, self._body_heights, strict=True):
            self._texts(text, [(i, cell, self.widths[i]) for i, cell in enumerate(lines)],
                        top, height, header=False)
            top -= height
        canvas.drawText(text)
        canvas.restoreState()

    def _texts(self, text: Any, cells: list[tuple[int, list[str], float]], top: float,
               height: float, *, header: bool) -> None:
        style = self.style
        current: tuple[str, float] | None = None
        edges = self._edges
        for index, lines, width in cells:
            if not lines:
                continue
            left = edges[index]
            bold = header or index in style.emphasised
            font = style.bold if bold else style.font
            size = self.header_size if header else style.column_size.get(index, style.size)
            if current != (font, size):
                text.setFont(font, size, style.leading)
                current = (font, size)
            block = len(lines) * style.leading
            baseline = top - (height - block) / 2 - style.leading + (style.leading - size) / 2 \
                + size * 0.12
            centred = header or (style.align[index] if index < len(style.align) else "C") == "C"
            for line in lines:
                x = left + (width - stringWidth(line, font, size)) / 2 if centred else left + PAD
                text.setTextOrigin(x, baseline)
                text.textOut(line)
                baseline -= style.leading
