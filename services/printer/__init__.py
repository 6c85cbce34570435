"""The printer service: paper copies as PDF (documents land with issue 6)."""
