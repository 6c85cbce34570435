"""The fill-rate trend over the school year as SVG shapes (pure; the template draws them).

Drawn on the server (no script, nothing for the CSP to allow): a line of the
fortnights' fill rates on a 0-100 % scale with grid lines at every 25 %, a dot per
fortnight and its date under the axis. Coordinates are in the SVG's own units.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.domain.fill_rate import Fortnight

WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 24, 28, 40


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the fortnight's first day, «02.09»
    value: str  # «91,4 %»


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    points: list[Point]
    polyline: str
    grid: list[tuple[float, str]]  # (y, «75 %»)
    plot_left: int
    plot_right: int
    axis_y: int


def trend_chart(series: list[Fortnight]) -> TrendChart:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    measured = [f for f in series if f.rate is not None]
    step = plot_width / max(len(measured) - 1, 1)
    points = []
    for index, fortnight in enumerate(measured):
        rate = fortnight.rate or 0.0
        x = LEFT + (step * index if len(measured) > 1 else plot_width / 2)
        y = TOP + plot_height * (1 - rate)
        points.append(Point(round(x, 1), round(y, 1), fortnight.date_from.strftime("%d.%m"),
                            f"{rate * 100:.1f} %".replace(".", ",")))
    grid = [(round(TOP + plot_height * (1 - share / 100), 1), f"{share} %")
            for share in (0, 25, 50, 75, 100)]
    return TrendChart(WIDTH, HEIGHT, points, " ".join(f"{p.x},{p.y}" for p in points), grid,
                      LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM)
