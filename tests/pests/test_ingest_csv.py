"""services.ingest.import_csv: historical trap logs, all or nothing, never counted twice."""

import datetime as dt
import io
import unicodedata

import pytest

from chinhquyenso.core.audit import AuditRecord
from chinhquyenso.pests.models import Station, TrapCount, TrapMessage
from chinhquyenso.pests.services.ingest import import_csv

pytestmark = pytest.mark.django_db

LOG = """mã trạm,ngày (đêm bẫy),mã lớp,số lượng
bd-kien-an-01,01/10/2026,ray-nau,1250
bd-kien-an-01,01/10/2026,bo-xit-mu-xanh,40
bd-kien-an-01,02/10/2026,ray-nau,3100
bd-ghi-tay,2026-10-01,sau-cuon-la-nho,75
bd-kien-an-01,01/10/2026,ray-lung-trang,220
"""


@pytest.fixture
def traps(smart_trap, make_trap):
    make_trap("bd-ghi-tay", kind=Station.Kind.LIGHT_TRAP)
    return smart_trap[0]


def test_a_log_is_imported_once_per_station_and_night(traps, admin_user):
    result = import_csv(io.BytesIO(LOG.encode()), actor=admin_user)
    assert result["imported"] and result["errors"] == []
    assert (result["rows"], result["messages"], result["counts"], result["duplicates"]) == (5, 3, 5, 0)
    message = TrapMessage.objects.get(message_id="csv:bd-kien-an-01:2026-10-01")
    assert message.transport == "csv" and message.status == "accepted"
    # The rows of one night need not be next to each other in the file.
    assert dict(message.counts.values_list("trap_class__code", "count")) == {
        "ray-nau": 1250,
        "bo-xit-mu-xanh": 40,
        "ray-lung-trang": 220,
    }
    assert set(TrapCount.objects.values_list("night", flat=True)) == {dt.date(2026, 10, 1), dt.date(2026, 10, 2)}
    assert AuditRecord.objects.filter(action="pests.ingest.import").count() == 1
    # Again: nothing new.
    again = import_csv(io.BytesIO(LOG.encode()), actor=admin_user)
    assert again["imported"] and (again["messages"], again["counts"], again["duplicates"]) == (0, 0, 3)
    assert TrapCount.objects.count() == 5


def test_a_bad_row_keeps_nothing_and_says_which_row(traps):
    log = LOG + "bd-khong-co,03/10/2026,ray-nau,5\nbd-kien-an-01,31/02/2026,ray-nau,5\n"
    log += "bd-kien-an-01,03/10/2026,bo-la,5\nbd-kien-an-01,03/10/2026,ray-nau,-5\nbd-kien-an-01,03/10/2026,ray-nau\n"
    log += "bd-kien-an-01,01/10/2026,ray-nau,9\n"
    result = import_csv(io.BytesIO(log.encode()))
    assert not result["imported"] and result["error_count"] == 6
    rows = {e["row"]: e["message"] for e in result["errors"]}
    assert "bd-khong-co" in rows[7] and "ngày/tháng/năm" in rows[8] and "bo-la" in rows[9]
    assert "không âm" in rows[10] and "thiếu cột" in rows[11].lower() and "Trùng với dòng 2" in rows[12]
    assert not TrapMessage.objects.exists() and not TrapCount.objects.exists()
    assert not AuditRecord.objects.filter(action="pests.ingest.import").exists()


def test_a_reimport_with_other_figures_is_refused(traps):
    import_csv(io.BytesIO(LOG.encode()))
    changed = LOG.replace("3100", "3200")
    result = import_csv(io.BytesIO(changed.encode()))
    assert not result["imported"] and "3100" in result["errors"][0]["message"] and result["errors"][0]["row"] == 4
    assert TrapCount.objects.get(night=dt.date(2026, 10, 2)).count == 3100


def test_semicolons_windows_1258_headers_without_diacritics_and_flags(traps, tmp_path):
    text = "Ma tram;Ngay;Ma lop;So luong\r\nbd-kien-an-01;05/10/2026;chau-chau-lua;90000\r\n"
    path = tmp_path / "so-theo-doi.csv"
    path.write_bytes(text.encode("cp1258"))
    result = import_csv(path)
    assert result["imported"] and result["flagged"] == 1
    message = TrapMessage.objects.get()
    assert message.status == "flagged" and "tối đa 5000" in message.reason
    assert not message.counts.get().accepted


def windows_1258(text: str) -> bytes:
    """As an old Windows program writes Vietnamese: the tone marks as combining characters."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in nfd[1:] if c in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in tones))
            out += (base + tones).encode("cp1258")
    return out


def test_a_vietnamese_header_in_windows_1258(traps):
    text = "Mã trạm,Ngày (đêm bẫy),Mã lớp,Số lượng\nbd-kien-an-01,06/10/2026,ray-nau,10\n"
    result = import_csv(io.BytesIO(windows_1258(text)))
    assert result["imported"] and result["counts"] == 1


def test_a_file_without_the_columns_is_refused(traps):
    from chinhquyenso.core.errors import DomainError

    with pytest.raises(DomainError, match="Thiếu cột: mã lớp, số lượng"):
        import_csv(io.BytesIO(b"ma tram,ngay\nx,y\n"))


def test_a_survey_point_and_a_future_night_are_refused(traps, make_trap):
    make_trap("diem-1", kind=Station.Kind.SURVEY_POINT)
    future = (dt.date.today() + dt.timedelta(days=3)).strftime("%d/%m/%Y")
    text = f"mã trạm,ngày,mã lớp,số lượng\ndiem-1,01/10/2026,ray-nau,1\nbd-ghi-tay,{future},ray-nau,1\n"
    result = import_csv(io.BytesIO(text.encode()))
    assert [e["row"] for e in result["errors"]] == [2, 3]
    assert "điểm điều tra" in result["errors"][0]["message"] and "tương lai" in result["errors"][1]["message"]
