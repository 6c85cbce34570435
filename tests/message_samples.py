"""One valid ``data`` of every internal message type, as its publisher writes it."""

from __future__ import annotations

from typing import Any

AT = "2026-11-28T20:00:00+00:00"

FINDING: dict[str, Any] = {
    "id": "f" + "0" * 31, "rule": "homework.late", "clause": "3.5", "severity": "warning",
    "responsible": "teacher", "status": "open", "school_id": "s", "class_id": "5a",
    "subject_id": "math", "subgroup": None, "teacher_id": "t1", "student_id": None,
    "lesson_id": "l1", "mark_id": None, "term_id": None,
    "message": "Домашнее задание не внесено.", "evidence": {"lesson_date": "2026-11-27"},
    "date": "2026-11-27", "detected_at": AT,
    "history": [{"at": AT, "status": "open", "actor": "checker", "comment": None}],
}
REPORT: dict[str, Any] = {
    "report_id": "rep-1", "kind": "fill_rate", "title": "Заполнение журнала",
    "parameters": {"date_from": "2026-11-16"}, "summary": [["Проведено уроков", "120"]],
    "tables": [{"name": "rows", "title": "Классы", "columns": [], "rows": []}],
    "scope": None, "requested_by": "schedule", "generated_at": AT,
}

SAMPLES: dict[str, dict[str, Any]] = {
    "finding.opened": FINDING,
    "finding.closed": {**FINDING, "status": "withdrawn"},
    "finding.updated": {**FINDING, "status": "fixed"},
    "rules.parameters.changed": {"parameters": {"final_mark_days": 3},
                                 "updated_by": "admin:tok"},
    "report.ready": REPORT,
    "report.failed": {"report_id": "rep-2", "kind": "fill_rate", "reason": "нет данных"},
    "print.completed": {
        "job_id": "job-1", "kind": "class_journal", "school_id": "s",
        "parameters": {"class_id": "5a"}, "requested_by": "deputy:tok",
        "file_key": "pdf/s/job-1/j.pdf", "sha256": "ab" * 32, "pages": 4, "bytes": 1000,
        "file_name": "j.pdf", "documents": 1},
    "print.failed": {"job_id": "job-2", "kind": "poster", "school_id": "s",
                     "reason": "неверный запрос"},
    "print.progress": {"job_id": "job-3", "done": 1, "total": 3},
    "backup.completed": {
        "backup_id": "bk0123456789abcdef", "kind": "daily", "key": "backups/all/x.kzb",
        "events": 10, "bytes": 99, "sha256": "ab" * 32, "created_at": AT,
        "time_range": {"from": AT, "to": AT}},
    "backup.verified": {"backup_id": "bk0123456789abcdef", "key": "backups/all/x.kzb",
                        "ok": True, "problems": [], "verified_at": AT,
                        "trial_restore": False},
    "backup.failed": {"backup_id": "bk0123456789abcdef", "kind": "manual",
                      "error": "disk full"},
    "backup.pruned": {"backup_id": "bk0123456789abcdef", "key": "backups/all/x.kzb",
                      "pruned_at": AT},
    "archive.registered": {
        "number": 1, "registry_number": "1/2026-2027", "school_id": "s", "class_id": "5a",
        "academic_year": "2026-2027", "pages": 40, "sha256": "ab" * 32,
        "pdf_key": "pdf/s/arc-1/j.pdf", "job_id": "arc-1", "registered_at": AT,
        "responsible": "deputy"},
    "notification.logged": {
        "message_id": "m1", "kind": "digest", "channel": "email", "recipient_kind": "teacher",
        "recipient_id": "t1", "student_id": None, "subject": "Замечания", "status": "queued",
        "attempt": 0, "detail": None, "at": AT},
    "finding.update": {"finding_id": "f1", "status": "waived", "comment": "болел",
                       "actor": "deputy:tok"},
    "rules.parameters.update": {"parameters": {"final_mark_days": 3}, "actor": "admin:tok"},
    "report.request": {"report_id": "rep-3", "kind": "fill_rate", "parameters": {},
                       "scope": None, "requested_by": "deputy:tok"},
    "print.request": {"job_id": "job-4", "kind": "class_journal",
                      "parameters": {"class_id": "5a", "year": "2026-2027"},
                      "requested_by": "backup"},
    "backup.create": {"backup_id": "bk0123456789abcdef", "scope": "*",
                      "requested_by": "admin:tok"},
    "archive.year_end": {"academic_year": "2026-2027", "requested_by": "deputy",
                         "class_ids": None},
}
