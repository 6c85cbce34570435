"""Academic results reports of clause 4.2 (pure): успеваемость, качество знаний, СОУ,
средний балл, and the objectivity of term marks.

They are sums over the students' results the sweep keeps
(:mod:`services.checker.domain.results`). Every figure is defined in
``ACADEMIC_DEFINITIONS`` / ``OBJECTIVITY_DEFINITIONS`` (shown with the report and in
docs/reports.md).

The unit of a row is "a student's marks in the row": all of a student's term
marks in the class's subjects for a row of a class or a parallel, their mark in
that subject for a row of a subject, the marks given by that teacher for a row of
a teacher. The same definitions then read right for every grouping.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from statistics import fmean
from typing import Any

from services.checker.domain.reports import (
    WHOLE_SCHOOL,
    Column,
    Report,
    ReportError,
    SchoolBook,
    Scope,
    Table,
)
from services.checker.domain.results import (
    EXEMPT,
    GRADES,
    LEFT,
    MISSING,
    ClassTermResults,
)
from services.checker.domain.results import NOT_ASSESSED as CODE_NOT_ASSESSED
from services.checker.domain.rules import Term

NOT_ASSESSED = "н/а"
#: Степень обученности учащихся (СОУ, В. П. Симонов): the weight of each term mark.
SOU_WEIGHTS = {"5": 100, "4": 64, "3": 36, "2": 16, NOT_ASSESSED: 7}
GROUPINGS = ("class", "subject", "teacher", "parallel")
BASES = ("final", "current")
BASIS_TITLES = {"final": "итоговые отметки за период",
                "current": "текущие отметки (период ещё идёт: прогноз по среднему текущих)"}


#: The weights by the stored codes (results.py: "n" is "н/а").
_WEIGHTS = {"5": 100, "4": 64, "3": 36, "2": 16, CODE_NOT_ASSESSED: 7}
_SUCCESS, _QUALITY = frozenset("345"), frozenset("45")


@dataclass
class Tally:
    """The marks of the students of one row, and who is out of its denominator."""

    marks: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    missing: int = 0
    exempt: int = 0
    left: set[str] = field(default_factory=set)

    def add(self, other: Tally) -> None:
        for student, values in other.marks.items():
            self.marks[student].extend(values)
        self.missing += other.missing
        self.exempt += other.exempt
        self.left |= other.left

    def figures(self) -> dict[str, Any]:
        students = [values for values in self.marks.values() if values]
        excellent = good = successful = one_three = failing = not_assessed = 0
        weights = grades_sum = grades = marks = 0
        for values in students:
            kinds = set(values)
            threes = values.count("3")
            if kinds <= _SUCCESS:
                successful += 1
                if kinds == {"5"}:
                    excellent += 1
                elif kinds <= _QUALITY:
                    good += 1
                elif threes == 1:
                    one_three += 1
            failing += "2" in kinds
            not_assessed += CODE_NOT_ASSESSED in kinds
            for value in values:
                weights += _WEIGHTS[value]
                if value != CODE_NOT_ASSESSED:
                    grades += 1
                    grades_sum += int(value)
            marks += len(values)
        return {
            "students": len(students),
            "success_rate": _share(successful, len(students)),
            "quality_rate": _share(excellent + good, len(students)),
            "sou_rate": _share(weights, 100 * marks),
            "mean_mark": _round(grades_sum / grades) if grades else None,
            "excellent": excellent,
            "good": good,
            "one_three": one_three,
            "failing": failing,
            "not_assessed": not_assessed,
            "missing": self.missing,
            "exempt": self.exempt,
            "left": len(self.left),
        }


def _share(count: int, of: int) -> float | None:
    return _round(count / of, 4) if of else None


def _round(value: float, digits: int = 2) -> float:
    """Rounded half up, as schools round (Python's round() goes to the even digit)."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits),
                                               rounding=ROUND_HALF_UP))


ACADEMIC_DEFINITIONS = {
    "students": "учеников с отметкой в строке: в списке класса на последний день периода "
                "(выбывшие до конца периода не считаются, прибывшие считаются), "
                "кроме освобождённых; «н/а» — отметка",
    "success_rate": "успеваемость: доля учеников, все отметки которых в строке — «3», «4» "
                    "или «5»; знаменатель — ученики с отметкой (с «н/а» тоже)",
    "quality_rate": "качество знаний: доля учеников, все отметки которых в строке — «4» или "
                    "«5» (отличники и хорошисты); знаменатель тот же",
    "sou_rate": "степень обученности (СОУ): среднее по всем отметкам строки при весах "
                "«5» — 100 %, «4» — 64 %, «3» — 36 %, «2» — 16 %, «н/а» — 7 %",
    "mean_mark": "средний балл: среднее всех отметок «2»–«5» строки («н/а» не число "
                 "и не входит)",
    "excellent": "отличники: все отметки строки — «5»",
    "good": "хорошисты: все отметки строки — «4» и «5», хотя бы одна «4»",
    "one_three": "ученики с одной «3»: ровно одна «3», остальные «4» и «5»",
    "failing": "неуспевающие: хотя бы одна «2»",
    "not_assessed": "не аттестованы: хотя бы одна «н/а»",
    "missing": "нет отметки: пары ученик × предмет, по которым итоговая отметка не "
               "выставлена (в знаменатель не входят)",
    "exempt": "освобождения: пары ученик × предмет, где освобождение покрывает все уроки "
              "предмета в периоде (в знаменатель не входят)",
    "left": "выбыли: ученики, бывшие в списке класса в периоде, но не в последний его день "
            "(не считаются)",
    "success_change": "успеваемость минус успеваемость прошлого периода того же вида, "
                      "в процентных пунктах (та же основа)",
    "quality_change": "то же для качества знаний, в процентных пунктах",
    "sou_change": "то же для СОУ, в процентных пунктах",
    "mean_change": "средний балл минус средний балл прошлого периода",
}
FIGURE_COLUMNS = (
    Column("students", "Учеников", ACADEMIC_DEFINITIONS["students"]),
    Column("success_rate", "Успеваемость, %", ACADEMIC_DEFINITIONS["success_rate"]),
    Column("quality_rate", "Качество, %", ACADEMIC_DEFINITIONS["quality_rate"]),
    Column("sou_rate", "СОУ, %", ACADEMIC_DEFINITIONS["sou_rate"]),
    Column("mean_mark", "Средний балл", ACADEMIC_DEFINITIONS["mean_mark"]),
    Column("excellent", "Отличники", ACADEMIC_DEFINITIONS["excellent"]),
    Column("good", "Хорошисты", ACADEMIC_DEFINITIONS["good"]),
    Column("one_three", "С одной «3»", ACADEMIC_DEFINITIONS["one_three"]),
    Column("failing", "Неуспевающие", ACADEMIC_DEFINITIONS["failing"]),
    Column("not_assessed", "Н/а", ACADEMIC_DEFINITIONS["not_assessed"]),
    Column("missing", "Нет отметки", ACADEMIC_DEFINITIONS["missing"]),
    Column("exempt", "Освобождения", ACADEMIC_DEFINITIONS["exempt"]),
    Column("left", "Выбыли", ACADEMIC_DEFINITIONS["left"]),
)
CHANGE_COLUMNS = (
    Column("success_change", "Δ успев., п.п.", ACADEMIC_DEFINITIONS["success_change"]),
    Column("quality_change", "Δ кач., п.п.", ACADEMIC_DEFINITIONS["quality_change"]),
    Column("sou_change", "Δ СОУ, п.п.", ACADEMIC_DEFINITIONS["sou_change"]),
    Column("mean_change", "Δ ср. балла", ACADEMIC_DEFINITIONS["mean_change"]),
)
GROUP_COLUMNS: dict[str, tuple[Column, ...]] = {
    "class": (Column("class_id", "Класс"), Column("homeroom", "Классный руководитель")),
    "parallel": (Column("parallel", "Параллель"), Column("classes", "Классов")),
    "subject": (Column("subject", "Предмет"),),
    "teacher": (Column("teacher", "Учитель"),),
}
GROUP_TITLES = {"class": "По классам", "parallel": "По параллелям", "subject": "По предметам",
                "teacher": "По учителям"}


@dataclass(frozen=True)
class Filters:
    """What part of the school a report covers: the token's view and the parameters."""

    scope: Scope = WHOLE_SCHOOL
    class_id: str | None = None
    subject_id: str | None = None
    teacher_id: str | None = None

    def keeps(self, class_id: str, subject_id: str, teacher_id: str) -> bool:
        return self.scope.sees(class_id, teacher_id) \
            and self.class_id in (None, class_id) and self.subject_id in (None, subject_id) \
            and self.teacher_id in (None, teacher_id)


def _group_key(by: str, item: ClassTermResults, subject_id: str, teacher_id: str) -> str:
    if by == "class":
        return item.class_id
    if by == "parallel":
        return f"{item.grade:02d}"
    return subject_id if by == "subject" else teacher_id


def tally(results: Iterable[ClassTermResults], *, by: str | None, basis: str,
          filters: Filters = Filters()) -> dict[str, Tally]:
    """The tallies of a term's results grouped ``by`` (None: one group, ``""``)."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    everyone = filters == Filters()
    for item in results:
        students = [f"{item.class_id}|{student}" for student in item.students]
        for stream in item.streams:
            if not everyone and not filters.keeps(item.class_id, stream.subject_id,
                                                  stream.teacher_id):
                continue
            group = tallies["" if by is None else _group_key(by, item, stream.subject_id,
                                                              stream.teacher_id)]
            codes = stream.finals if basis == "final" else stream.currents
            for student, code in zip(students, codes, strict=True):
                if code in _WEIGHTS:
                    group.marks[student].append(code)
                elif code == MISSING:
                    group.missing += 1
                elif code == EXEMPT:
                    group.exempt += 1
                elif code == LEFT:
                    group.left.add(student)
    return dict(tallies)


def whole(tallies: dict[str, Tally]) -> Tally:
    """One tally of every group's students (a student's marks in all the groups)."""
    total = Tally()
    for part in tallies.values():
        total.add(part)
    return total


def _change(now: Any, before: Any, scale: float) -> float | None:
    if now is None or before is None:
        return None
    return _round((now - before) * scale, 2 if scale == 1 else 1)


def academic_results(results: dict[str, list[ClassTermResults]], book: SchoolBook, term: Term, *,
                     by: str = "class", basis: str | None = None,
                     filters: Filters = Filters()) -> Report:
    """``results``: the stored results by term id (the term, its earlier terms of the
    same kind)."""
    if by not in GROUPINGS:
        raise ReportError(f"группировка {by} неизвестна: class, subject, teacher или parallel")
    basis = basis or default_basis(term, book.today)
    if basis not in BASES:
        raise ReportError("основа отчёта: final (итоговые отметки) или current (текущие)")
    previous = book.previous(term)
    now = tally(results.get(term.term_id, []), by=by, basis=basis, filters=filters)
    before = tally(results.get(previous.term_id, []), by=by, basis=basis, filters=filters) \
        if previous else {}
    wholes = {term.term_id: whole(now)}
    if previous is not None:
        wholes[previous.term_id] = whole(before)
    classes_of: dict[str, set[str]] = defaultdict(set)
    for item in results.get(term.term_id, []):
        classes_of[f"{item.grade:02d}"].add(item.class_id)
    label: Callable[[str], dict[str, Any]] = {
        "class": lambda k: {"class_id": k, "homeroom": book.teacher(book.homeroom.get(k))},
        "parallel": lambda k: {"parallel": f"{int(k)} классы", "grade": int(k),
                               "classes": len(classes_of[k])},
        "subject": lambda k: {"subject": book.subject(k), "subject_id": k},
        "teacher": lambda k: {"teacher": book.teacher(k), "teacher_id": k},
    }[by]
    rows = []
    for key in sorted(now, key=lambda k: (book.teacher(k) if by == "teacher" else
                                          book.subject(k) if by == "subject" else k)):
        figures = now[key].figures()
        earlier = before[key].figures() if key in before else {}
        rows.append({**label(key), **figures, **_changes(figures, earlier)})
    x_key = GROUP_COLUMNS[by][0].key
    main = Table("rows", f"{GROUP_TITLES[by]}: {_term_title(term)}",
                 (*GROUP_COLUMNS[by], *FIGURE_COLUMNS, *CHANGE_COLUMNS), rows,
                 chart={"type": "bar", "x": x_key, "series": ["success_rate", "quality_rate",
                                                              "sou_rate"],
                        "percent": True, "title": f"Успеваемость, качество и СОУ "
                                                  f"({GROUP_TITLES[by].lower()})"})
    line_rows = []
    for earlier_term in sorted((t for t in book.terms if t.kind == term.kind
                                and t.start <= term.start), key=lambda t: t.start):
        if earlier_term.term_id not in wholes:
            wholes[earlier_term.term_id] = whole(tally(
                results.get(earlier_term.term_id, []), by=None, basis=basis, filters=filters))
        line_rows.append({"term_id": earlier_term.term_id, "term": _term_title(earlier_term),
                          **wholes[earlier_term.term_id].figures()})
    terms_table = Table("terms", "По периодам (вся выборка)",
                        (Column("term", "Период"), *FIGURE_COLUMNS[:5]), line_rows,
                        chart={"type": "line", "x": "term",
                               "series": ["success_rate", "quality_rate", "sou_rate"],
                               "percent": True, "title": "Динамика по периодам"})
    total = line_rows[-1] if line_rows else wholes[term.term_id].figures()
    summary = [("Период", f"{_term_title(term)}: {_ru(term.start)} – {_ru(term.end)}"),
               ("Основа", BASIS_TITLES[basis]),
               ("Прошлый период", _term_title(previous) if previous else "нет"),
               ("Учеников с отметкой", str(total["students"])),
               ("Успеваемость", _percent(total["success_rate"])),
               ("Качество знаний", _percent(total["quality_rate"])),
               ("СОУ", _percent(total["sou_rate"])),
               ("Средний балл", "—" if total["mean_mark"] is None
                else f"{total['mean_mark']:.2f}".replace(".", ","))]
    parameters: dict[str, Any] = {"by": by, "term_id": term.term_id, "basis": basis}
    for name in ("class_id", "subject_id", "teacher_id"):
        if getattr(filters, name) is not None:
            parameters[name] = getattr(filters, name)
    return Report("academic_results", "Анализ успеваемости и качества знаний", parameters,
                  summary, [main, terms_table])


def _changes(figures: dict[str, Any], earlier: dict[str, Any]) -> dict[str, Any]:
    return {"success_change": _change(figures["success_rate"], earlier.get("success_rate"), 100),
            "quality_change": _change(figures["quality_rate"], earlier.get("quality_rate"), 100),
            "sou_change": _change(figures["sou_rate"], earlier.get("sou_rate"), 100),
            "mean_change": _change(figures["mean_mark"], earlier.get("mean_mark"), 1)}


def default_basis(term: Term, today: date) -> str:
    """Term marks once the term is over; the current marks while it runs."""
    return "final" if term.end < today else "current"


def objectivity_term(book: SchoolBook, term_id: str | None) -> Term:
    """The term asked for; by default the last quarter that ended (else the current one)."""
    if term_id is not None:
        return book.term(term_id)
    ended = sorted((t for t in book.terms if t.kind == "quarter" and t.end < book.today),
                   key=lambda t: t.start)
    return ended[-1] if ended else book.term(None)


# Objectivity of term marks --------------------------------------------------------------
OBJECTIVITY_DEFINITIONS = {
    "marks": "итоговые отметки «2»–«5» учеников, у которых в периоде есть текущие отметки "
             "(те же ученики, что в анализе успеваемости)",
    "final_mean": "среднее этих итоговых отметок",
    "current_mean": "среднее по тем же ученикам их среднего текущих отметок периода",
    "difference": "итоговая минус среднее текущих, в среднем по ученикам: больше нуля — "
                  "итоговые выше текущих",
    "above": "итоговая выше среднего текущих, округлённого по правилам (0,5 вверх), "
             "на 1 и более",
    "below": "итоговая ниже округлённого среднего текущих на 1 и более",
    "inconsistent_share": "доля не соответствующих среднему текущих (выше + ниже) — "
                          "правило final_mark.inconsistent в сумме",
    "parallel_final_mean": "средняя итоговая отметка по предмету во всех классах параллели",
    "final_drift": "средняя итоговая класса минус средняя итоговая параллели",
    "parallel_current_mean": "среднее текущих отметок периода по предмету во всей параллели",
    "current_mean_all": "среднее всех текущих отметок периода класса по предмету",
    "current_drift": "среднее текущих класса минус среднее текущих параллели",
    "drift_gap": "отклонение итоговых минус отклонение текущих: насколько итоговые "
                 "отметки класса отходят от параллели сильнее, чем текущие",
}


@dataclass
class _Pairs:
    finals: list[int] = field(default_factory=list)
    means: list[float] = field(default_factory=list)
    above: int = 0
    below: int = 0
    current_sum: int = 0
    current_count: int = 0

    def add(self, final: int, current_sum: int, current_count: int, expected: int) -> None:
        """``expected``: the current marks' mean rounded half up (kept by the sweep)."""
        self.finals.append(final)
        self.means.append(current_sum / current_count)
        self.above += final - expected >= 1
        self.below += expected - final >= 1
        self.current_sum += current_sum
        self.current_count += current_count

    def final_mean(self) -> float | None:
        return _round(fmean(self.finals)) if self.finals else None

    def current_all(self) -> float | None:
        return _round(self.current_sum / self.current_count) if self.current_count else None


def _assessed_pairs(results: Iterable[ClassTermResults], filters: Filters,
                    key: Callable[[ClassTermResults, str, str], tuple[str, ...]]
                    ) -> dict[tuple[str, ...], _Pairs]:
    pairs: dict[tuple[str, ...], _Pairs] = defaultdict(_Pairs)
    for item in results:
        for stream in item.streams:
            if not filters.keeps(item.class_id, stream.subject_id, stream.teacher_id):
                continue
            group: _Pairs | None = None
            for code, current, count, total in zip(stream.finals, stream.currents,
                                                   stream.counts, stream.sums, strict=True):
                if code in GRADES and count:
                    if group is None:
                        group = pairs[key(item, stream.subject_id, stream.teacher_id)]
                    group.add(int(code), total, count, int(current))
    return pairs


def marks_objectivity(results: list[ClassTermResults], book: SchoolBook, term: Term, *,
                      filters: Filters = Filters()) -> Report:
    """Term marks against current marks per teacher, class and subject; each class's
    marks against its parallel's."""
    by_teacher = _assessed_pairs(results, filters, lambda i, s, t: (t, i.class_id, s))
    teacher_rows: list[dict[str, Any]] = []
    for (teacher_id, class_id, subject_id), p in sorted(
            by_teacher.items(), key=lambda kv: (book.teacher(kv[0][0]), kv[0])):
        final_mean = p.final_mean()
        current = _round(fmean(p.means))
        teacher_rows.append({
            "teacher": book.teacher(teacher_id), "teacher_id": teacher_id, "class_id": class_id,
            "subject": book.subject(subject_id), "subject_id": subject_id,
            "marks": len(p.finals), "final_mean": final_mean, "current_mean": current,
            "difference": _round(fmean(f - m for f, m in zip(p.finals, p.means, strict=True))),
            "above": p.above, "below": p.below,
            "inconsistent_share": _share(p.above + p.below, len(p.finals))})
    # The parallel's figures are the whole parallel's, whoever may see the report.
    grade_of = {item.class_id: item.grade for item in results}
    parallel = _assessed_pairs(results, Filters(subject_id=filters.subject_id),
                               lambda i, s, t: (f"{i.grade:02d}", s))
    parallel_classes: dict[str, set[str]] = defaultdict(set)
    for item in results:
        parallel_classes[f"{item.grade:02d}"].add(item.class_id)
    by_class = _assessed_pairs(results, filters, lambda i, s, t: (i.class_id, s, t))
    drift_rows: list[dict[str, Any]] = []
    for (class_id, subject_id, teacher_id), p in sorted(by_class.items()):
        whole = parallel[(f"{grade_of[class_id]:02d}", subject_id)]
        drift_rows.append({
            "class_id": class_id, "subject": book.subject(subject_id),
            "subject_id": subject_id, "teacher": book.teacher(teacher_id),
            "teacher_id": teacher_id,
            "classes": len(parallel_classes[f"{grade_of[class_id]:02d}"]),
            "final_mean": p.final_mean(), "parallel_final_mean": whole.final_mean(),
            "final_drift": _diff(p.final_mean(), whole.final_mean()),
            "current_mean_all": p.current_all(),
            "parallel_current_mean": whole.current_all(),
            "current_drift": _diff(p.current_all(), whole.current_all())})
        drift_rows[-1]["drift_gap"] = _diff(drift_rows[-1]["final_drift"],
                                            drift_rows[-1]["current_drift"])
    class_pairs = _assessed_pairs(results, filters, lambda i, s, t: (i.class_id,))
    grade_pairs = _assessed_pairs(results, Filters(), lambda i, s, t: (f"{i.grade:02d}",))
    class_rows = []
    for (class_id,), p in sorted(class_pairs.items()):
        whole = grade_pairs[(f"{grade_of[class_id]:02d}",)]
        class_rows.append({
            "class_id": class_id, "final_mean": p.final_mean(),
            "parallel_final_mean": whole.final_mean(),
            "final_drift": _diff(p.final_mean(), whole.final_mean()),
            "current_mean_all": p.current_all(), "parallel_current_mean": whole.current_all(),
            "current_drift": _diff(p.current_all(), whole.current_all()),
            "inconsistent_share": _share(p.above + p.below, len(p.finals))})
    d = OBJECTIVITY_DEFINITIONS
    teacher_table = Table("teachers", "Итоговые отметки и текущие: по учителям, классам, "
                                      "предметам", (
        Column("teacher", "Учитель"), Column("class_id", "Класс"), Column("subject", "Предмет"),
        Column("marks", "Итоговых", d["marks"]), Column("final_mean", "Ср. итоговая",
                                                         d["final_mean"]),
        Column("current_mean", "Ср. текущих", d["current_mean"]),
        Column("difference", "Разница", d["difference"]), Column("above", "Выше", d["above"]),
        Column("below", "Ниже", d["below"]),
        Column("inconsistent_share", "Не соответствуют, %", d["inconsistent_share"])),
        teacher_rows)
    drift_columns = (
        Column("final_mean", "Ср. итоговая класса", d["final_mean"]),
        Column("parallel_final_mean", "Ср. итоговая параллели", d["parallel_final_mean"]),
        Column("final_drift", "Отклонение итоговых", d["final_drift"]),
        Column("current_mean_all", "Ср. текущих класса", d["current_mean_all"]),
        Column("parallel_current_mean", "Ср. текущих параллели", d["parallel_current_mean"]),
        Column("current_drift", "Отклонение текущих", d["current_drift"]))
    class_table = Table("classes", "Классы против параллели (все предметы)", (
        Column("class_id", "Класс"),
        Column("final_mean", "Ср. итоговая класса", "среднее итоговых отметок класса по всем "
                                                    "предметам (те же ученики)"),
        Column("parallel_final_mean", "Ср. итоговая параллели",
               "то же по всем классам параллели"),
        Column("final_drift", "Отклонение итоговых", d["final_drift"]),
        Column("current_mean_all", "Ср. текущих класса",
               "среднее всех текущих отметок периода класса по всем предметам"),
        Column("parallel_current_mean", "Ср. текущих параллели",
               "то же по всем классам параллели"),
        Column("current_drift", "Отклонение текущих", d["current_drift"]),
        Column("inconsistent_share", "Не соответствуют, %", d["inconsistent_share"])),
        class_rows, chart={"type": "bar", "x": "class_id",
                           "series": ["final_drift", "current_drift"], "percent": False,
                           "title": "Отклонение от параллели: итоговые и текущие"})
    drift_table = Table("drift", "Классы против параллели по предметам", (
        Column("class_id", "Класс"), Column("subject", "Предмет"), Column("teacher", "Учитель"),
        Column("classes", "Классов в параллели"), *drift_columns,
        Column("drift_gap", "Разрыв", d["drift_gap"])), drift_rows)
    marks = sum(r["marks"] for r in teacher_rows)
    off = sum(r["above"] + r["below"] for r in teacher_rows)
    summary = [("Период", f"{_term_title(term)}: {_ru(term.start)} – {_ru(term.end)}"),
               ("Итоговых отметок", str(marks)),
               ("Не соответствуют среднему текущих", f"{off} ({_percent(_share(off, marks))})")]
    parameters: dict[str, Any] = {"term_id": term.term_id}
    for name in ("class_id", "subject_id", "teacher_id"):
        if getattr(filters, name) is not None:
            parameters[name] = getattr(filters, name)
    return Report("marks_objectivity", "Объективность итоговых отметок", parameters, summary,
                  [class_table, teacher_table, drift_table])


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else _round(a - b)


def _term_title(term: Term) -> str:
    names = {"quarter": "четверть", "half_year": "полугодие", "year": "учебный год"}
    if term.kind == "year":
        return names["year"]
    return f"{term.number} {names.get(term.kind, term.kind)}"


def _ru(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %".replace(".", ",")
