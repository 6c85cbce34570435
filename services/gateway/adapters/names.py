"""Moved to ``services/gateway/queries/names.py`` (issue 13: views read through queries).

Kept only while ``web/console.py`` still imports it from here; remove it once the
console reads through the query modules."""

from services.gateway.queries.names import Names, school_names

__all__ = ["Names", "school_names"]
