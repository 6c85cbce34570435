"""What the gateway sends besides Kundoluk's events: its commands to the services that
own the data (``checker.report.request``, ``printer.print.request``, ...), each through
its command outbox, in the caller's transaction; the command relay publishes them."""

from services.gateway.adapters.tables import command_outbox
from shared.messaging.outbox import Announcer

announce = Announcer("gateway", "cmd", commands=command_outbox)
