"""Feedback settings: `settings.CQS["FEEDBACK_…"]` overrides these defaults,
so an installation (or a test) changes a rule without touching code. Messages
leave through the outbox, whose senders, attempts and back-off are the
OUTBOX_* settings (exchange.outbox)."""

from django.conf import settings

DEFAULTS = {
    # The province's mobile app, as the channel's name on the pages and in the reports' timelines.
    "FEEDBACK_APP_NAME": "Ứng dụng di động của tỉnh",
    # Open311 jurisdiction_id this system serves; empty: the host of CQS["SITE_URL"].
    "FEEDBACK_OPEN311_JURISDICTION": "",
    # The public map's extent "south,north,west,east" (settings.py sets the province's); empty: the
    # current communes' reference points widened by FEEDBACK_PIN_MAX_KM.
    "FEEDBACK_MAP_BOUNDS": "",
    # A map pin routes to the nearest commune point no farther than this.
    "FEEDBACK_PIN_MAX_KM": 15,
    # Abuse limits: reports per phone / per IP address in a rolling hour; codes per phone.
    "FEEDBACK_PER_PHONE_PER_HOUR": 5,
    "FEEDBACK_PER_IP_PER_HOUR": 20,
    "FEEDBACK_CODES_PER_PHONE_PER_HOUR": 5,
    "FEEDBACK_CODE_MINUTES": 10,
    "FEEDBACK_CODE_MAX_ATTEMPTS": 5,
    # A second identical report from the same device or phone within this many minutes is the first one.
    "FEEDBACK_DUPLICATE_MINUTES": 10,
    "FEEDBACK_MAX_PHOTOS": 5,
    # The citizen may reopen a resolved report within this many days (calendar days).
    "FEEDBACK_REOPEN_DAYS": 7,
    # Escalation: due soon at ≤ this many working days left; to the IOC when overdue by more than
    # this many working days, or unassigned for more than one working day.
    "FEEDBACK_DUE_SOON_DAYS": 2,
    "FEEDBACK_IOC_OVERDUE_DAYS": 3,
    "FEEDBACK_IOC_QUEUE_DAYS": 1,
    # IOC mailbox that receives level-3 escalations besides the IOC operators' own addresses.
    "FEEDBACK_IOC_EMAIL": "",
}


def conf(name: str):
    return settings.CQS.get(name, DEFAULTS[name])
