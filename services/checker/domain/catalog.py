"""Wording findings from the public rule catalog (pure)."""

from __future__ import annotations

from typing import Any

from services.checker.domain.rules import Finding
from shared.events.rules import CATALOG


def message(finding: Finding, minimum: int = 3) -> str:
    """The remark for a finding, in Russian."""
    values: dict[str, Any] = {"date": finding.date.strftime("%d.%m.%Y"), "minimum": minimum,
                              **{k: v for k, v in finding.evidence.items()
                                 if isinstance(v, (str, int))}}
    return CATALOG[finding.rule].text.format_map(_Blank(values))


def severity_of(finding: Finding) -> str:
    """Oral marks entered late are a warning; otherwise the catalog's severity."""
    return str(finding.evidence.get("severity") or CATALOG[finding.rule].severity)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"
