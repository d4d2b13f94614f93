"""Per-species accuracy of the deployed model from the experts' confirmations (the seeds' table,
measured), and the figures of the indicator."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from chinhquyenso.core.uploads import store_generated
from chinhquyenso.pests.models import Identification, IdentificationPhoto, Organism
from chinhquyenso.pests.selectors.accuracy import accuracy_summary, accuracy_tables
from tests.pests.onnx_models import photo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
V1 = "pests-v1@aaaaaaaaaaaa"
V2 = "pests-v2@bbbbbbbbbbbb"
_n = iter(range(1, 10_000))


def top(*codes):
    return [{"organism": code, "confidence": round(0.9 - 0.3 * i, 2)} for i, code in enumerate(codes)]


def confirmed(version, predicted, truth, *, abstained=False, day=dt.date(2026, 3, 10)):
    """One request with one photo the model ranked `predicted` (a tuple of codes) and an expert labelled
    `truth` on `day`."""
    identification = Identification.objects.create(
        public_id=uuid.uuid4(),
        status=Identification.Status.CONFIRMED,
        top=top(*predicted) if predicted else [],
        model_version=version,
        abstained=abstained,
        sent_to_expert=abstained,
    )
    colour = (next(_n) % 256, 10, 10)
    stored = store_generated(photo(colour), content_type="image/jpeg", extension="jpg")
    IdentificationPhoto.objects.create(
        identification=identification,
        file=stored,
        top=top(*predicted) if predicted else [],
        label=Organism.objects.get(code=truth) if truth != "none" else None,
        label_none=truth == "none",
        labelled_at=dt.datetime.combine(day, dt.time(9), tzinfo=VN),
    )
    return identification


@pytest.fixture
def confirmations(pest_catalog):
    # Model v1. Rầy nâu: 4 photos — 3 right first, 1 right only second (and that request abstained).
    for _ in range(3):
        confirmed(V1, ("ray-nau", "ray-lung-trang", "none"), "ray-nau")
    confirmed(V1, ("ray-lung-trang", "ray-nau", "none"), "ray-nau", abstained=True)
    # Rầy lưng trắng: 2 photos, both called rầy nâu; one not even in the top 3.
    confirmed(V1, ("ray-nau", "ray-lung-trang", "none"), "ray-lung-trang")
    confirmed(V1, ("ray-nau", "none", "dao-on"), "ray-lung-trang", abstained=True)
    # No pest: 1 photo, right.
    confirmed(V1, ("none", "ray-nau", "dao-on"), "none")
    # Model v2: one đạo ôn, right.
    confirmed(V2, ("dao-on", "bac-la", "none"), "dao-on", day=dt.date(2026, 4, 2))
    # Sent while no model was configured: not measured.
    confirmed("no-model", (), "ray-nau")


def row(table, code):
    return next(r for r in table.rows if r.code == code)


def test_the_per_species_table(confirmations):
    tables, not_measured = accuracy_tables()
    assert [t.model_version for t in tables] == [V1, V2] and not_measured == 1
    v1 = tables[0]
    assert (v1.photos, v1.top1, v1.top3, v1.abstained) == (7, 4, 6, 2)
    assert v1.accuracy == "57,1%" and v1.top3_rate == "85,7%" and v1.abstained_rate == "28,6%"
    ray_nau = row(v1, "ray-nau")
    assert ray_nau.name == "Rầy nâu"
    assert (ray_nau.confirmed, ray_nau.top1, ray_nau.top3, ray_nau.abstained) == (4, 3, 4, 1)
    assert ray_nau.recall == "75,0%" and ray_nau.top3_rate == "100,0%"
    # Called rầy nâu 5 times, right 3 times.
    assert ray_nau.predicted == 5 and ray_nau.precision == "60,0%"
    white = row(v1, "ray-lung-trang")
    assert (white.confirmed, white.top1, white.top3, white.abstained) == (2, 0, 1, 1)
    assert white.recall == "0,0%" and white.predicted == 1 and white.precision == "0,0%"
    clean = row(v1, "none")
    assert clean.name == "Không có sinh vật gây hại" and clean.recall == "100,0%" and clean.precision == "100,0%"
    assert [r.code for r in v1.rows][:1] == ["ray-nau"]  # most confirmed first


def test_a_class_never_confirmed_shows_no_recall(confirmations):
    v2 = accuracy_tables()[0][1]
    assert row(v2, "dao-on").recall == "100,0%"
    assert all(r.code != "bac-la" for r in v2.rows)  # never predicted first, never confirmed
    tables, _ = accuracy_tables(model_version=V1)
    assert [t.model_version for t in tables] == [V1]


def test_the_period_is_the_confirmation_date(confirmations):
    tables, not_measured = accuracy_tables(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30))
    assert [t.model_version for t in tables] == [V2] and not_measured == 0
    assert accuracy_tables(start=dt.date(2026, 3, 10), end=dt.date(2026, 3, 10))[0][0].photos == 7
    assert accuracy_tables(start=dt.date(2026, 3, 11), end=dt.date(2026, 3, 31))[0] == []


def test_the_indicators_figures(confirmations):
    summary = accuracy_summary(dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert {k: summary[k] for k in ("photos", "top1", "top3", "abstained", "not_measured")} == {
        "photos": 8,
        "top1": 5,
        "top3": 7,
        "abstained": 2,
        "not_measured": 1,
    }
    assert summary["by_version"][V2] == {"photos": 1, "top1": 1, "top3": 1, "abstained": 0}
    empty = accuracy_summary(dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert empty["photos"] == 0 and empty["by_version"] == {}


def test_unconfirmed_photos_do_not_count(pest_catalog):
    identification = confirmed(V1, ("ray-nau", "none", "dao-on"), "ray-nau")
    IdentificationPhoto.objects.filter(identification=identification).update(label=None, labelled_at=None)
    assert accuracy_tables() == ([], 0)
