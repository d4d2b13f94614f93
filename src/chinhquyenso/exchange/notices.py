"""In-app notices as their recipient reads them: the citizen's list (/ca-nhan/thong-bao/), the
officer's (/can-bo/thong-bao/) and the unread count in every page's header.

An in-app notice is shown as soon as the transaction that wrote it commits: it leaves nothing,
so it does not wait for the outbox worker (its delivery only marks it sent). Without this, an
installation whose worker is stopped or late showed officers no due-soon or overdue notice at all."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from chinhquyenso.exchange.models import Message

VISIBLE = [Message.State.PENDING, Message.State.SENT]

# The officer's page groups notices: key → (label, kind prefixes); "khac" is every other kind.
# The groups are fixed; each app files its own reminder kinds into them from ready() (file_under),
# so a document's deadline reminder sits beside a dossier's, and exchange knows no app's kinds.
OFFICER_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "qua-han": ("Quá hạn", ()),
    "sap-den-han": ("Sắp đến hạn", ()),
}
OTHER = "khac"


def file_under(group: str, prefix: str) -> None:
    """Show the notices whose kind starts with `prefix` in the officer's `group` tab."""
    label, prefixes = OFFICER_GROUPS[group]
    if prefix not in prefixes:
        OFFICER_GROUPS[group] = (label, (*prefixes, prefix))


# Kind prefixes whose e-mails and SMS to an account are also that account's notices (the app that
# writes them has no in-app twin: feedback's messages to a signed-in reporter). Filled from ready().
ACCOUNT_COPIES: list[str] = []


def show_account_copies(prefix: str) -> None:
    if prefix not in ACCOUNT_COPIES:
        ACCOUNT_COPIES.append(prefix)


def _base(user) -> QuerySet[Message]:
    shown = Q(channel=Message.Channel.IN_APP, state__in=VISIBLE)
    for prefix in ACCOUNT_COPIES:
        shown |= Q(kind__startswith=prefix) & ~Q(channel=Message.Channel.IN_APP)
    return Message.objects.filter(shown, user=user, secret=False)


def _group_filter(group: str) -> Q:
    if group in OFFICER_GROUPS:
        condition = Q(pk__in=[])
        for prefix in OFFICER_GROUPS[group][1]:
            condition |= Q(kind__startswith=prefix)
        return condition
    condition = Q()
    for _, prefixes in OFFICER_GROUPS.values():
        for prefix in prefixes:
            condition &= ~Q(kind__startswith=prefix)
    return condition


def page(
    user, *, group: str = "", unread_only: bool = False, limit: int = 20, offset: int = 0
) -> tuple[list[Message], bool]:
    """One page of the user's notices, newest first, and whether there is a next page."""
    if not getattr(user, "pk", None):
        return [], False
    notices = _base(user)
    if group:
        notices = notices.filter(_group_filter(group))
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    rows = list(
        notices.order_by("-created_at", "-id").only(
            "id", "kind", "subject", "body", "link", "read_at", "created_at", "channel", "state"
        )[offset : offset + limit + 1]
    )
    return rows[:limit], len(rows) > limit


def unread_count(user) -> int:
    if not getattr(user, "pk", None):
        return 0
    return _base(user).filter(read_at__isnull=True).count()


def group_counts(user) -> dict[str, dict[str, int]]:
    """group → {"all": n, "unread": n} for the officer's tabs, in one query."""
    aggregates = {}
    for group in [*OFFICER_GROUPS, OTHER]:
        condition = _group_filter(group)
        aggregates[f"{group}__all"] = Count("pk", filter=condition)
        aggregates[f"{group}__unread"] = Count("pk", filter=condition & Q(read_at__isnull=True))
    counts = _base(user).aggregate(**aggregates) if getattr(user, "pk", None) else {}
    result: dict[str, dict[str, int]] = {}
    for name, value in counts.items():
        group, what = name.split("__")
        result.setdefault(group, {})[what] = value or 0
    return result


def notice_of(user, pk: int) -> Message | None:
    if not getattr(user, "pk", None):
        return None
    return _base(user).filter(pk=pk).first()


def mark_read(user, ids=None, at: dt.datetime | None = None) -> int:
    """Mark these notices (None: all of the user's unread ones) read."""
    if not getattr(user, "pk", None):
        return 0
    unread = _base(user).filter(read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=at or timezone.now())


def target(link: str) -> str:
    """Where opening a notice leads: its link as a path on this site (links are stored absolute,
    CQS_SITE_URL + path, for e-mails); anything else is not followed."""
    base = settings.CQS.get("SITE_URL", "").rstrip("/")
    if base and link.startswith(base + "/"):
        link = link[len(base) :]
    return link if link.startswith("/") and not link.startswith("//") else ""
