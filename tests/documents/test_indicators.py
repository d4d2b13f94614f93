"""Document indicators, hand-computed on a small March 2025 dataset:

Outgoing (issue date, signed, recipients)
  huyện  O1 03/3 signed, xã Kiến An (internal)            sent, electronic
         O2 05/3 signed, xã Kiến Thành (internal) + paper  sent, not electronic
         O3 10/3 unsigned, no recipient                    issued only
         O4 02/4 signed, internal                          April
         O5 draft                                          nothing
  tỉnh   O6 04/3 signed, an outside agency (bus)           sent, electronic
Incoming at xã Kiến An (deadline, completed)
  I1 10/3, 08/3 on time          I2 12/3, 14/3 late         I3 20/3, open: overdue in March
  I4 28/2, 03/3 late (and overdue in February)              I5 05/4, open: April
  I6 no deadline, done: not counted                         I7 31/3, 31/3 23:00: on time
  I8 15/3, returned: not counted
"""

import datetime as dt

import pytest

from chinhquyenso.core.registry import INDICATOR_MEASURES
from chinhquyenso.documents.indicators import indicator_measures
from chinhquyenso.documents.models import Direction, Document, Recipient
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import PROVINCE, compute, find_unit
from tests.conftest import vn

from .incoming_support import document_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(province):
    def outgoing(agency, issued_on, *, signed, recipients=(), number=True):
        doc = Document.objects.create(
            direction=Direction.OUTGOING,
            agency=province[agency],
            status=Document.Status.ISSUED if number else Document.Status.DRAFT,
            document_type=document_type(),
            number=(Document.objects.count() + 1) if number else None,
            excerpt="Văn bản",
            issued_on=issued_on,
            signed=signed,
        )
        for channel, target in recipients:
            Recipient.objects.create(
                document=doc,
                channel=channel,
                agency=province[target] if channel == "internal" else None,
                electronic_code="000.00.00.G12" if channel == "bus" else "",
                name=target,
            )
        return doc

    outgoing("huyen", dt.date(2025, 3, 3), signed=True, recipients=[("internal", "xa_a")])
    outgoing("huyen", dt.date(2025, 3, 5), signed=True, recipients=[("internal", "xa_b"), ("paper", "Báo An Giang")])
    outgoing("huyen", dt.date(2025, 3, 10), signed=False)
    outgoing("huyen", dt.date(2025, 4, 2), signed=True, recipients=[("internal", "xa_a")])
    outgoing("huyen", None, signed=False, number=False)
    outgoing("ubnd", dt.date(2025, 3, 4), signed=True, recipients=[("bus", "Bộ Nội vụ")])

    def incoming(deadline, completed_at=None, status=None):
        return Document.objects.create(
            direction=Direction.INCOMING,
            agency=province["xa_a"],
            status=status or (Document.Status.DONE if completed_at else Document.Status.IN_PROCESS),
            document_type=document_type("cong-van"),
            excerpt="Văn bản đến",
            arrival_date=dt.date(2025, 2, 20),
            deadline=deadline,
            completed_at=completed_at,
        )

    incoming(dt.date(2025, 3, 10), vn(2025, 3, 8, 9))
    incoming(dt.date(2025, 3, 12), vn(2025, 3, 14, 9))
    incoming(dt.date(2025, 3, 20))
    incoming(dt.date(2025, 2, 28), vn(2025, 3, 3, 9))
    incoming(dt.date(2025, 4, 5))
    incoming(None, vn(2025, 3, 6, 9))
    incoming(dt.date(2025, 3, 31), vn(2025, 3, 31, 23))
    incoming(dt.date(2025, 3, 15), status=Document.Status.RETURNED)


def test_measures_per_agency(dataset, province):
    m = indicator_measures(dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert m[province["huyen"].pk] == {
        "documents_issued": 3,
        "documents_issued_signed": 2,
        "documents_sent": 2,
        "documents_sent_electronic": 1,
    }
    assert m[province["ubnd"].pk] == {
        "documents_issued": 1,
        "documents_issued_signed": 1,
        "documents_sent": 1,
        "documents_sent_electronic": 1,
    }
    assert m[province["xa_a"].pk] == {"incoming_due": 5, "incoming_on_time": 2, "incoming_late": 3}
    february = indicator_measures(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert february == {province["xa_a"].pk: {"incoming_due": 1, "incoming_late": 1}}
    # A month not over: a deadline still ahead is not counted yet (I3, due 20/3).
    mid_march = indicator_measures(dt.date(2025, 3, 1), dt.date(2025, 3, 31), now=vn(2025, 3, 15, 12))
    assert mid_march[province["xa_a"].pk]["incoming_due"] == 4


def test_indicator_values(dataset, registry):
    assert "documents" in INDICATOR_MEASURES
    c = compute(parse_period("2025-M03"))
    p = c.values[PROVINCE]
    assert (p["documents_signed_rate"].numerator, p["documents_signed_rate"].denominator) == (3, 4)
    assert p["documents_signed_rate"].display == "75,0%"
    assert p["documents_electronic_exchange_rate"].display == "66,7%"  # 2 of 3 sent
    assert p["incoming_on_time_rate"].display == "40,0%"  # 2 of 5
    district = find_unit(c, "ubnd-cho-moi").id
    commune = find_unit(c, "xa-kien-an").id
    assert c.own[district]["documents_signed_rate"].display == "66,7%"
    assert c.own[district]["documents_electronic_exchange_rate"].display == "50,0%"
    assert c.own[commune]["incoming_on_time_rate"].display == "40,0%"
    assert c.values[district]["incoming_on_time_rate"].display == "40,0%"  # the district counts its communes
    april = compute(parse_period("2025-M04")).values[PROVINCE]
    assert april["documents_signed_rate"].display == "100,0%"
    # I5 (due 05/4) still open at the end of April: overdue, none on time
    assert (april["incoming_on_time_rate"].numerator, april["incoming_on_time_rate"].denominator) == (0, 1)
