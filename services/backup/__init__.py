"""The backup service: the journal record (every accepted event, hash-chained).

Backups, restore and the year-end archive build on it (issue 7).
"""
