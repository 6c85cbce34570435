"""What the printer sends (``print.*``): each through its outbox, in the caller's
transaction; the relay publishes it."""

from services.printer.adapters.tables import outbox
from shared.messaging.outbox import Announcer

announce = Announcer("printer", "prn", events=outbox)
