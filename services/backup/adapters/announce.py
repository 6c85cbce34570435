"""What the backup service sends: its events (``backup.*``, ``archive.registered``) and
its commands to the printer (``printer.print.request``), each through an outbox of its
own, in the caller's transaction; two relays publish them."""

from services.backup.adapters.tables import command_outbox, outbox
from shared.messaging.outbox import Announcer

announce = Announcer("backup", "bak", events=outbox, commands=command_outbox)
