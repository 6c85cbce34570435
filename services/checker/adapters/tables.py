"""The checker service's tables (it owns them; no other service reads them)."""

from sqlalchemy import MetaData

from shared.messaging.inbox import inbox_table

metadata = MetaData()
inbox = inbox_table(metadata, "checker")
