"""Charts under a printed report's tables (issue 18): bars by class, a line over terms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.printer.render.charts import chart_for
from services.printer.render.documents import render_report
from tests.printer_support import FONT_DIR, ink, page_texts, pdfa_report
from tests.unit.test_checker_analytics import Q1, Q2, hand, sim


def _without_charts(report: dict[str, Any]) -> dict[str, Any]:
    return {**report, "tables": [{k: v for k, v in t.items() if k != "chart"}
                                 for t in report["tables"]]}


def test_academic_results_print_with_a_bar_chart_by_class_and_a_line_over_terms(
        tmp_path: Path) -> None:
    report = sim("academic_results", term_id=Q2, basis="final")
    pdf = render_report(report, "sch0001", FONT_DIR)
    texts = page_texts(pdf.body)
    whole = "\n".join(texts)
    assert pdfa_report(pdf.body)["part"] == "2"
    assert "Анализ успеваемости и качества знаний" in texts[0]
    assert "Успеваемость, качество и СОУ (по классам)" in whole  # the bar chart's title
    assert "Динамика по периодам" in whole  # the line's
    assert "100 %" in whole and "1 четверть" in whole  # axis labels and the terms
    plain = render_report(_without_charts(report), "sch0001", FONT_DIR)
    with_charts = sum(ink(pdf.body, page, tmp_path / f"c{page}.png") for page in range(pdf.pages))
    without = sum(ink(plain.body, page, tmp_path / f"p{page}.png")
                  for page in range(plain.pages))
    assert with_charts > without * 1.2  # the charts are drawn, not only their titles


def test_objectivity_prints_the_drift_of_each_class_with_negative_bars(tmp_path: Path) -> None:
    report = hand("marks_objectivity", term_id=Q1)
    table = next(t for t in report["tables"] if t["name"] == "classes")
    drawing = chart_for(table, 500)
    assert drawing is not None
    pdf = render_report(report, "hand", FONT_DIR)
    assert "Отклонение от параллели: итоговые и текущие" in "\n".join(page_texts(pdf.body))
    assert ink(pdf.body, 0, tmp_path / "objectivity.png") > 1000


def test_no_chart_without_a_spec_or_without_figures() -> None:
    table = {"columns": [{"key": "x", "title": "X"}, {"key": "v", "title": "V"}],
             "rows": [{"x": "a", "v": 1}]}
    assert chart_for(table, 500) is None
    assert chart_for({**table, "chart": {"type": "pie", "x": "x", "series": ["v"]}}, 500) is None
    assert chart_for({**table, "chart": {"type": "bar", "x": "x", "series": ["v"]},
                      "rows": [{"x": "a", "v": None}]}, 500) is None
    assert chart_for({**table, "chart": {"type": "bar", "x": "x", "series": ["v"]},
                      "rows": [{"x": str(i), "v": 1} for i in range(61)]}, 500) is None
    assert chart_for({**table, "chart": {"type": "line", "x": "x", "series": ["v"]}},
                     500) is not None
