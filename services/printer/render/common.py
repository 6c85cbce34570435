"""What every printed document shares: fonts, page frames, running headers, PDF/A.

ReportLab draws the pages; fonts are DejaVu TrueType files (full Cyrillic and
the Kyrgyz letters ң ө ү) embedded as subsets. ``finish_pdfa`` then turns the
PDF into PDF/A-2b with pikepdf: an sRGB output intent and XMP metadata (title,
author, subject, ``pdfaid:part=2``, ``pdfaid:conformance=B``) matching the
document information dictionary.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pikepdf
from PIL import ImageCms
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

#: The TrueType files the printer embeds (Debian's fonts-dejavu-core installs them).
FONT_FILES = {
    "Sans": "DejaVuSans.ttf",
    "Sans-Bold": "DejaVuSans-Bold.ttf",
    "Narrow": "DejaVuSansCondensed.ttf",
    "Narrow-Bold": "DejaVuSansCondensed-Bold.ttf",
}
REQUIRED_LETTERS = "АаЁёЯяҢңӨөҮү"
MARGIN = 22.0
HEADER = 16.0
GRID = colors.Color(0.35, 0.35, 0.35)
SHADE = colors.Color(0.92, 0.92, 0.92)

_lock = threading.Lock()
_registered: set[str] = set()


class FontsMissing(RuntimeError):
    """The DejaVu fonts are not where ``KOZOMOL_FONT_DIR`` says."""


def register_fonts(font_dir: Path) -> None:
    """Register the DejaVu fonts with ReportLab once per process (checks ң ө ү)."""
    with _lock:
        if str(font_dir) in _registered:
            return
        for name, file_name in FONT_FILES.items():
            path = font_dir / file_name
            if not path.is_file():
                raise FontsMissing(
                    f"font {path} is missing: install Debian's fonts-dejavu-core "
                    "(deploy/install-fonts.sh) or set KOZOMOL_FONT_DIR")
            font = TTFont(name, str(path))
            missing = [c for c in REQUIRED_LETTERS if ord(c) not in font.face.charToGlyph]
            if missing:
                raise FontsMissing(f"font {path} lacks the letters {''.join(missing)}")
            pdfmetrics.registerFont(font)
        pdfmetrics.registerFontFamily("Sans", normal="Sans", bold="Sans-Bold",
                                      italic="Sans", boldItalic="Sans-Bold")
        pdfmetrics.registerFontFamily("Narrow", normal="Narrow", bold="Narrow-Bold",
                                      italic="Narrow", boldItalic="Narrow-Bold")
        _registered.add(str(font_dir))


def style(size: float = 8, *, font: str = "Narrow", leading: float | None = None,
          align: int = 0, space_after: float = 0) -> ParagraphStyle:
    return ParagraphStyle(f"{font}-{size}-{align}", fontName=font, fontSize=size,
                          leading=leading or size * 1.2, alignment=align,
                          spaceAfter=space_after)


def text_width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def fit_size(texts: list[str], font: str, width: float, size: float,
             smallest: float = 5.0) -> float:
    """The largest font size ≤ ``size`` (≥ ``smallest``) at which every text fits ``width``."""
    widest = max((text_width(text, font, 1.0) for text in texts), default=0.0)
    if widest <= 0:
        return size
    return max(smallest, min(size, width / widest))


@dataclass(frozen=True)
class DocumentInfo:
    title: str
    subject: str
    author: str = "Kozomol"
    keywords: str = ""
    language: str = "ru-RU"


@dataclass(frozen=True)
class RenderedPdf:
    body: bytes
    pages: int
    sha256: str


DEFAULT_ZONE = "Asia/Bishkek"


def school_zone(calendar: dict[str, Any] | None) -> ZoneInfo:
    """The school's time zone from its calendar (Asia/Bishkek when unknown)."""
    try:
        return ZoneInfo(str((calendar or {}).get("timezone") or DEFAULT_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def local_time(moment: datetime | str, zone: ZoneInfo) -> str:
    """A moment as the school reads it: «01.10.2026 14:05» in its own zone."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


class RunningHead:
    """The header and footer of every page: what the page is and its sheet number.

    Sections set ``topic`` (e.g. the subject) with a :class:`SetTopic` flowable
    at their start; the header is drawn when the page ends, so it names what the
    page holds. ``printed`` (the local time of printing) stands in the footer.
    """

    def __init__(self, left: str, right: str, printed: str = "") -> None:
        self.left, self.right, self.topic = left, right, ""
        self.printed = printed

    def draw(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        width, height = canvas._pagesize
        canvas.saveState()
        canvas.setFont("Narrow", 7.5)
        top = height - MARGIN + 4
        canvas.drawString(MARGIN, top, self.left)
        if self.topic:
            canvas.drawCentredString(width / 2, top, self.topic)
        canvas.drawRightString(width - MARGIN, top, self.right)
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, top - 3, width - MARGIN, top - 3)
        canvas.setFont("Narrow", 8)
        canvas.drawCentredString(width / 2, MARGIN - 12, f"Лист {canvas.getPageNumber()}")
        if self.printed:
            canvas.setFont("Narrow", 6.5)
            canvas.drawRightString(width - MARGIN, MARGIN - 12,
                                   f"Напечатано {self.printed} · Kozomol")
        canvas.restoreState()


class SetTopic(Flowable):
    """Zero-size flowable: from here on, pages are headed with ``topic``."""

    def __init__(self, head: RunningHead, topic: str) -> None:
        super().__init__()
        self.head, self.topic = head, topic
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.head.topic = self.topic


class Bookmark(Flowable):
    """Zero-size flowable: a PDF bookmark (outline entry) and a contents line here."""

    def __init__(self, title: str, level: int = 0, *, in_contents: bool = True) -> None:
        super().__init__()
        self.title, self.level, self.in_contents = title, level, in_contents
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        key = f"bm{id(self)}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(self.title, key, level=self.level, closed=self.level > 0)


class _Document(BaseDocTemplate):
    """Notes the page of every contents entry as it is laid out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries: list[tuple[int, str, int]] = []  # (level, title, page)

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 (ReportLab's name)
        if isinstance(flowable, Bookmark) and flowable.in_contents:
            self.entries.append((flowable.level, flowable.title, self.page))


class PageCount(Flowable):
    """Draws ``text`` with the number of the page it lands on (the last sheet's count)."""

    def __init__(self, template: Callable[[int], str], size: float = 13) -> None:
        super().__init__()
        self.template, self.size = template, size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.size * 2

    def draw(self) -> None:
        self.canv.setFont("Sans", self.size)
        self.canv.drawString(0, self.size * 0.5, self.template(self.canv.getPageNumber()))


def document(buffer: io.BytesIO, head: RunningHead | None, info: DocumentInfo, *,
             wide: bool) -> _Document:
    size = landscape(A4) if wide else A4
    doc = _Document(buffer, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN,
                          topMargin=MARGIN + HEADER, bottomMargin=MARGIN + 6,
                          title=info.title, author=info.author, subject=info.subject,
                          keywords=info.keywords, creator="Kozomol printer",
                          initialFontName="Sans", initialFontSize=9, lang=info.language)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], pagesize=size,
                                       **({"onPageEnd": head.draw} if head else {}))])
    return doc


def build(story: list[Any], head: RunningHead, info: DocumentInfo, *, wide: bool,
          font_dir: Path) -> RenderedPdf:
    """Lay out ``story`` and finish it as PDF/A-2b."""
    raw, _ = lay_out(story, head, info, wide=wide, font_dir=font_dir)
    body, pages = finish_pdfa(raw, info)
    return RenderedPdf(body, pages, hashlib.sha256(body).hexdigest())


def lay_out(story: list[Any], head: RunningHead | None, info: DocumentInfo, *, wide: bool,
            font_dir: Path) -> tuple[bytes, list[tuple[int, str, int]]]:
    """The plain PDF of ``story`` (no PDF/A finish) and its contents entries with pages;
    without a ``head`` the pages get no header or footer."""
    register_fonts(font_dir)
    buffer = io.BytesIO()
    doc = document(buffer, head, info, wide=wide)
    doc.build(story)
    return buffer.getvalue(), doc.entries


@cache
def srgb_profile() -> bytes:
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def finish_pdfa(raw: bytes, info: DocumentInfo,
                now: datetime | None = None) -> tuple[bytes, int]:
    """PDF/A-2b: sRGB output intent, XMP metadata in step with the info dictionary."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    with pikepdf.open(io.BytesIO(raw)) as pdf:
        profile = pdf.make_stream(srgb_profile())
        profile.N = 3
        intent = pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
            OutputConditionIdentifier="sRGB IEC61966-2.1", Info="sRGB IEC61966-2.1",
            RegistryName="http://www.color.org", DestOutputProfile=profile)
        pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])
        pdf.Root.Lang = pikepdf.String(info.language)
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=False)
        with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["dc:title"] = info.title
            xmp["dc:creator"] = [info.author]
            xmp["dc:description"] = info.subject
            xmp["dc:language"] = [info.language]
            xmp["pdf:Producer"] = "Kozomol printer (ReportLab, pikepdf)"
            xmp["pdf:Keywords"] = info.keywords
            xmp["xmp:CreatorTool"] = "Kozomol printer"
            xmp["xmp:CreateDate"] = moment.isoformat()
            xmp["xmp:ModifyDate"] = moment.isoformat()
            xmp["xmp:MetadataDate"] = moment.isoformat()
            xmp["pdfaid:part"] = "2"
            xmp["pdfaid:conformance"] = "B"
        if "/Trapped" in pdf.docinfo:  # no XMP counterpart written: leave it out
            del pdf.docinfo["/Trapped"]
        pages = len(pdf.pages)
        out = io.BytesIO()
        pdf.save(out, fix_metadata_version=True)
    return out.getvalue(), pages
