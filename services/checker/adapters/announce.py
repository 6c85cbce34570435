"""What the checker sends (``finding.*``, ``rules.parameters.changed``, ``report.*``):
each through its outbox, in the caller's transaction; the relay publishes it."""

from services.checker.adapters.tables import outbox
from shared.messaging.outbox import Announcer

announce = Announcer("checker", "chk", events=outbox)
