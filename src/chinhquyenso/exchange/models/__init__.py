"""The exchange app's data: the outbox (every message that leaves) and the data bus (LGSP):
its registry, access rights, message log and delivery state."""

from chinhquyenso.exchange.models.bus import (  # noqa: F401
    BusAccessRight,
    BusCircuit,
    BusLogArchive,
    BusLogEntry,
    BusLogHead,
    BusLogSeal,
    BusMember,
    BusNonce,
    BusOperation,
    BusReceipt,
    BusService,
    BusSubsystem,
)
from chinhquyenso.exchange.models.outbox import Message, NotificationConsent  # noqa: F401
