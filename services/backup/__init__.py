"""The backup service: the journal record (every accepted event, hash-chained); later backups and the archive."""
