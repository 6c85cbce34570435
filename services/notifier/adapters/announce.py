"""What the notifier sends (``notification.logged``): through its outbox, in the
caller's transaction; the relay publishes it."""

from services.notifier.adapters.tables import outbox
from shared.messaging.outbox import Announcer

announce = Announcer("notifier", "ntf", events=outbox)
