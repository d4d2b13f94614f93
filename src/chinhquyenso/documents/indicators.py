"""Measures of the documents app for indicator formulas (core.registry.INDICATOR_MEASURES,
registered in DocumentsConfig.ready()), per agency version and period — the monthly figures the
province publishes on how agencies send and receive e-documents, which feed the e-government
assessments (indicators/data/registry.json: documents_electronic_exchange_rate,
documents_signed_rate, incoming_on_time_rate):

- sent between agencies: outgoing documents issued in the period (a number and an issue date in
  it) with at least one recipient; sent electronically: those none of whose recipients got paper
  (inside the province straight into the incoming register, outside over the data bus);
- issued: outgoing documents issued in the period; signed: those carrying a digital signature;
- incoming with a deadline "due" in the period: finished in the period, or whose deadline passed in
  the period without being finished by its end; on time: finished in the period on or before the
  deadline (a document late in March and finished in April counts late in both months, as the
  national 766 index counts dossiers).

Counting is done by SQL aggregates for the outgoing side; the incoming side reads one row per
incoming document with a deadline in or finished in the period (an agency's month is hundreds)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from chinhquyenso.core.calendar import LOCAL_TZ, local_date
from chinhquyenso.documents.models import Direction, Document, Recipient

MEASURES = {
    "documents_sent": "văn bản đi gửi cơ quan, đơn vị khác trong kỳ",
    "documents_sent_electronic": "văn bản đi gửi cơ quan, đơn vị khác hoàn toàn dưới dạng điện tử",
    "documents_issued": "văn bản đi ban hành trong kỳ",
    "documents_issued_signed": "văn bản đi ban hành có chữ ký số",
    "incoming_due": "văn bản đến có hạn xử lý đã xử lý xong hoặc đến hạn trong kỳ",
    "incoming_on_time": "văn bản đến xử lý xong đúng hạn trong kỳ",
    "incoming_late": "văn bản đến xử lý xong quá hạn hoặc quá hạn chưa xong trong kỳ",
}
ISSUED = (Document.Status.ISSUED, Document.Status.RECALLED, Document.Status.REPLACED)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, day after end 00:00) in local time."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=LOCAL_TZ),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ),
    )


def indicator_measures(start: dt.date, end: dt.date, now: dt.datetime | None = None) -> dict[int, dict[str, int]]:
    """{agency version id: {measure: number}} for the local dates start..end."""
    out: dict[int, dict[str, int]] = defaultdict(dict)

    def add(agency_id, name, number):
        if number:
            out[agency_id][name] = out[agency_id].get(name, 0) + int(number)

    issued = Document.objects.filter(
        direction=Direction.OUTGOING,
        status__in=ISSUED,
        number__isnull=False,
        issued_on__gte=start,
        issued_on__lte=end,
    )
    any_recipient = Recipient.objects.filter(document=OuterRef("pk"))
    paper = Recipient.objects.filter(document=OuterRef("pk"), channel=Recipient.Channel.PAPER)
    rows = (
        issued.values("agency_id")
        .annotate(
            issued=Count("id"),
            signed=Count("id", filter=Q(signed=True)),
            sent=Count("id", filter=Q(Exists(any_recipient))),
            electronic=Count("id", filter=Q(Exists(any_recipient)) & ~Q(Exists(paper))),
        )
        .order_by()
    )
    for row in rows:
        add(row["agency_id"], "documents_issued", row["issued"])
        add(row["agency_id"], "documents_issued_signed", row["signed"])
        add(row["agency_id"], "documents_sent", row["sent"])
        add(row["agency_id"], "documents_sent_electronic", row["electronic"])

    begin, after = _bounds(start, end)
    moment = min(after, now or timezone.now())
    incoming = (
        Document.objects.filter(direction=Direction.INCOMING, deadline__isnull=False)
        .exclude(status=Document.Status.RETURNED)
        .filter(
            Q(completed_at__gte=begin, completed_at__lt=after)
            | Q(deadline__gte=start, deadline__lte=end) & (Q(completed_at__isnull=True) | Q(completed_at__gte=after))
        )
        .values_list("agency_id", "deadline", "completed_at")
    )
    for agency_id, deadline, completed_at in incoming.iterator():
        finished_here = completed_at is not None and begin <= completed_at < after
        if not finished_here and local_date(moment) <= deadline:
            continue  # a period not over yet: its deadline has not passed
        add(agency_id, "incoming_due", 1)
        if finished_here and local_date(completed_at) <= deadline:
            add(agency_id, "incoming_on_time", 1)
        else:
            add(agency_id, "incoming_late", 1)
    return {agency_id: measures for agency_id, measures in out.items() if measures}
