"""The students' results per class and term in the checker's tables (academic reports)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, insert, select, tuple_

from services.checker.adapters.tables import result_stats
from services.checker.domain.results import ClassTermResults

_CHUNK = 500


def save_results(connection: Connection, school_id: str,
                 results: list[ClassTermResults]) -> int:
    """Bring the school's stored results in line with ``results``; returns rows written.

    One row per (term, class); only the rows whose results changed are written, so a
    sweep after a few new marks rewrites a few classes of the current term.
    """
    stored = {(row.term_id, row.class_id): (row.grade, row.results) for row in connection.execute(
        select(result_stats.c.term_id, result_stats.c.class_id, result_stats.c.grade,
               result_stats.c.results).where(result_stats.c.school_id == school_id))}
    wanted = {(item.term_id, item.class_id): (item.grade, item.dump()) for item in results}
    changed = [key for key, value in wanted.items() if stored.get(key) != value]
    gone = [key for key in stored if key not in wanted]
    stale = [key for key in changed if key in stored]
    for keys in (gone, stale):
        for start in range(0, len(keys), _CHUNK):
            connection.execute(delete(result_stats).where(
                result_stats.c.school_id == school_id,
                tuple_(result_stats.c.term_id, result_stats.c.class_id).in_(
                    keys[start:start + _CHUNK])))
    if changed:
        connection.execute(insert(result_stats), [
            {"school_id": school_id, "term_id": term_id, "class_id": class_id,
             "grade": wanted[(term_id, class_id)][0], "results": wanted[(term_id, class_id)][1]}
            for term_id, class_id in changed])
    return len(changed) + len(gone)


def load_results(connection: Connection, school_id: str,
                 term_ids: Iterable[str]) -> dict[str, list[ClassTermResults]]:
    """The stored results of the given terms, by term id (classes in order)."""
    wanted = sorted(set(term_ids))
    loaded: dict[str, list[ClassTermResults]] = {term_id: [] for term_id in wanted}
    if not wanted:
        return loaded
    rows = connection.execute(select(result_stats).where(
        result_stats.c.school_id == school_id, result_stats.c.term_id.in_(wanted))
        .order_by(result_stats.c.term_id, result_stats.c.class_id))
    for row in rows:
        loaded[row.term_id].append(ClassTermResults.load(row.term_id, row.class_id, row.grade,
                                                         row.results))
    return loaded
