"""A chart under a report's table, when the report asks for one (``table["chart"]``).

The checker says what to draw (docs/reports.md, "chart"): ``type`` ``bar`` (one group
of bars per row, e.g. by class) or ``line`` (one point per row, e.g. over terms),
``x`` the key of the rows' label, ``series`` the keys of the figures, ``percent``
whether the figures are shares (0-1, drawn as %). Drawn with ReportLab's own
graphics (docs/decisions.md): vector shapes in the same PDF, the same fonts.
"""

from __future__ import annotations

from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

#: Distinguishable in print and for the colour-blind (Okabe-Ito).
PALETTE = (colors.HexColor("#0072B2"), colors.HexColor("#E69F00"),
           colors.HexColor("#009E73"), colors.HexColor("#CC79A7"),
           colors.HexColor("#56B4E9"), colors.HexColor("#D55E00"))
MAX_CATEGORIES = 60  # beyond this the bars are too thin to read: the table says it all
HEIGHT = 170.0  # the plot and the legend above it; the labels' room is added


def chart_for(table: dict[str, Any], width: float) -> Drawing | None:
    """The drawing for ``table``'s chart spec, or None (no spec, nothing to draw)."""
    spec = table.get("chart")
    rows = table.get("rows") or []
    if not isinstance(spec, dict) or not rows or len(rows) > MAX_CATEGORIES:
        return None
    series = [key for key in spec.get("series") or [] if isinstance(key, str)]
    if not series or spec.get("type") not in ("bar", "line"):
        return None
    titles = {c.get("key"): str(c.get("title") or c.get("key"))
              for c in table.get("columns") or []}
    scale = 100.0 if spec.get("percent") else 1.0
    data = [[_number(row.get(key)) * scale for row in rows] for key in series]
    if not any(value for values in data for value in values):
        return None
    labels = [str(row.get(spec.get("x")) or "") for row in rows]
    rotated = len(labels) > 12 or max(len(label) for label in labels) > 10
    # Slanted labels need room under the plot: about 3 points per character.
    bottom = 20 + (min(90, 3 * max(len(label) for label in labels)) if rotated else 12)
    drawing = Drawing(width, HEIGHT + bottom)
    top = HEIGHT + bottom
    title = str(spec.get("title") or "")
    drawing.add(String(0, top - 10, title, fontName="Sans-Bold", fontSize=8.5))
    plot: VerticalBarChart | HorizontalLineChart
    plot = VerticalBarChart() if spec["type"] == "bar" else HorizontalLineChart()
    plot.x, plot.y = 34, bottom
    plot.width, plot.height = width - 44, HEIGHT - 40
    plot.data = data
    plot.categoryAxis.categoryNames = labels
    plot.categoryAxis.labels.fontName = "Narrow"
    plot.categoryAxis.labels.fontSize = 6.5
    if rotated:
        plot.categoryAxis.labels.angle = 40
        plot.categoryAxis.labels.boxAnchor = "ne"
    plot.valueAxis.labels.fontName = "Narrow"
    plot.valueAxis.labels.fontSize = 6.5
    low = min(0.0, *(value for values in data for value in values))
    high = max(value for values in data for value in values)
    if spec.get("percent"):
        plot.valueAxis.valueMin, plot.valueAxis.valueMax = 0, 100
        plot.valueAxis.valueStep = 20
        plot.valueAxis.labelTextFormat = "%d %%"
    else:
        plot.valueAxis.valueMin = low if low < 0 else 0
        plot.valueAxis.valueMax = max(high, 0) or 1
        plot.valueAxis.labelTextFormat = lambda v: f"{v:.2f}".replace(".", ",")
    plot.categoryAxis.labelAxisMode = "low"  # labels under the plot, not on the zero line
    plot.valueAxis.gridStrokeColor = colors.HexColor("#DDDDDD")
    plot.valueAxis.visibleGrid = True
    for index in range(len(series)):
        colour = PALETTE[index % len(PALETTE)]
        if isinstance(plot, VerticalBarChart):
            plot.bars[index].fillColor = colour
            plot.bars[index].strokeColor = None
        else:
            plot.lines[index].strokeColor = colour
            plot.lines[index].strokeWidth = 1.5
    if isinstance(plot, VerticalBarChart):
        plot.groupSpacing = 4 if len(rows) > 20 else 8
        plot.barSpacing = 0.5
    drawing.add(plot)
    legend = Legend()
    legend.y = top - 22
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 7
    legend.fontName, legend.fontSize = "Narrow", 7
    legend.deltax = 110
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], titles.get(key, key))
                             for i, key in enumerate(series)]
    legend.x = max(34.0, width - 120 * len(series))
    drawing.add(legend)
    return drawing


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else 0.0
