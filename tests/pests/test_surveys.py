"""Field surveys (pests.services.surveys and the phone page): stored once per client id (a retry, an
offline queue sending twice, two sends at once), bad values refused with their field named, the
officer's scope, and the page with and without JavaScript."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from chinhquyenso.core.errors import Conflict, DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.pests.models import Station, Survey, SurveyObservation
from chinhquyenso.pests.services import surveys


def form(pest_area, **changes) -> dict:
    data = {
        "client_id": str(uuid.uuid4()),
        "commune": pest_area.commune_a.code,
        "crop": "lua",
        "stage": "de-nhanh",
        "surveyed_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "latitude": "10.5521",
        "longitude": "105.4018",
        "area_ha": "2,5",
        "note": "Ruộng  ven kênh",
        "observations": [
            {"organism": "ray-nau", "density_per_m2": "1200", "infestation_pct": "", "stage_of_pest": "tuổi 2–3"},
            {"organism": "dao-on", "density_per_m2": "", "infestation_pct": "3,5"},
            {"organism": "nhen-soi", "density_per_m2": "40"},
            {"organism": "sau-cuon-la-nho", "density_per_m2": "", "infestation_pct": ""},  # not surveyed
        ],
    }
    data.update(changes)
    return data


@pytest.fixture
def officer(pest_catalog, pest_officer):
    return pest_officer


def test_a_survey_is_stored_with_its_observations_and_audited(officer, pest_area):
    survey = surveys.submit(actor=officer, data=form(pest_area))
    assert not getattr(survey, "replayed", False)
    assert (survey.commune, survey.crop.code, survey.stage, survey.officer) == (
        pest_area.commune_a,
        "lua",
        "de-nhanh",
        officer,
    )
    assert (survey.latitude, survey.longitude, survey.area_ha, survey.note) == (
        Decimal("10.552100"),
        Decimal("105.401800"),
        Decimal("2.50"),
        "Ruộng ven kênh",
    )
    rows = {o.organism.code: o for o in survey.observations.select_related("organism")}
    assert set(rows) == {"ray-nau", "dao-on", "nhen-soi"}  # the empty row is not an observation
    assert (rows["ray-nau"].density_per_m2, rows["ray-nau"].infestation_pct) == (Decimal("1200.00"), None)
    assert rows["ray-nau"].stage_of_pest == "tuổi 2–3"
    assert (rows["dao-on"].density_per_m2, rows["dao-on"].infestation_pct) == (None, Decimal("3.50"))
    record = AuditRecord.objects.get(action="pests.survey.submit")
    assert record.object_id == str(survey.pk) and record.agency_id == pest_area.commune_a.pk
    assert record.after["observations"] == 3 and "Ruộng" not in str(record.after)  # no free text in the audit


def test_the_same_form_twice_is_one_survey(officer, pest_area):
    data = form(pest_area)
    first = surveys.submit(actor=officer, data=data)
    # the offline queue sends again: same client id, numbers written another way
    again = dict(data, area_ha="2.50", observations=[dict(o) for o in data["observations"]])
    again["observations"][0]["density_per_m2"] = "1200,00"
    second = surveys.submit(actor=officer, data=again)
    assert second.pk == first.pk and second.replayed
    assert Survey.objects.count() == 1 and SurveyObservation.objects.count() == 3
    assert AuditRecord.objects.filter(action="pests.survey.submit").count() == 1


def test_the_same_client_id_with_other_content_is_refused(officer, pest_area):
    data = form(pest_area)
    surveys.submit(actor=officer, data=data)
    changed = dict(data, stage="lam-dong")
    with pytest.raises(Conflict) as error:
        surveys.submit(actor=officer, data=changed)
    assert error.value.field == "client_id" and "nội dung khác" in error.value.message
    assert Survey.objects.get().stage == "de-nhanh"


def test_another_officer_cannot_reuse_a_client_id(officer, commune_officer, pest_area):
    data = form(pest_area)
    surveys.submit(actor=officer, data=data)
    with pytest.raises(Conflict) as error:
        surveys.submit(actor=commune_officer, data=data)
    assert error.value.field == "client_id"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"client_id": "abc"}, "client_id", "UUID"),
        ({"client_id": ""}, "client_id", "mã phiếu"),
        ({"surveyed_on": "07/12/2026"}, "surveyed_on", "YYYY-MM-DD"),
        ({"latitude": "NaN"}, "latitude", "hữu hạn"),
        ({"latitude": "91"}, "latitude", "từ -90 đến 90"),
        ({"longitude": ""}, "longitude", "cả vĩ độ và kinh độ"),
        ({"area_ha": "-1"}, "area_ha", "từ 0"),
        ({"commune": "khong-co"}, "commune", "Không tìm thấy"),
        ({"commune": "so-tu-phap"}, "commune", "xã, phường"),
        ({"crop": "ngo"}, "crop", "cây trồng"),
        ({"stage": "ra-hoa"}, "stage", "Giai đoạn"),
        ({"stage": ""}, "stage", "Chưa chọn"),
        ({"observations": []}, "observations", "ít nhất một"),
        ({"observations": "ray-nau"}, "observations", "danh sách"),
        (
            {"observations": [{"organism": "ray-nau", "density_per_m2": "1e9"}]},
            "observations.ray-nau.density_per_m2",
            "100000",
        ),
        (
            {"observations": [{"organism": "ray-nau", "density_per_m2": "-3"}]},
            "observations.ray-nau.density_per_m2",
            "từ 0",
        ),
        (
            {"observations": [{"organism": "ray-nau", "density_per_m2": "Infinity"}]},
            "observations.ray-nau.density_per_m2",
            "hữu hạn",
        ),
        (
            {"observations": [{"organism": "dao-on", "infestation_pct": "120"}]},
            "observations.dao-on.infestation_pct",
            "đến 100",
        ),
        (
            {"observations": [{"organism": "dao-on", "infestation_pct": "mười"}]},
            "observations.dao-on.infestation_pct",
            "số thập phân",
        ),
        ({"observations": [{"organism": "khong-co", "density_per_m2": "1"}]}, "observations.khong-co", "danh mục"),
        (
            {
                "observations": [
                    {"organism": "ray-nau", "density_per_m2": "1"},
                    {"organism": "ray-nau", "density_per_m2": "2"},
                ]
            },
            "observations.ray-nau",
            "hai lần",
        ),
        ({"note": "x" * 2001}, "note", "2000"),
    ],
)
def test_bad_values_are_refused_naming_the_field(officer, pest_area, changes, field, words):
    with pytest.raises(DomainError) as error:
        surveys.submit(actor=officer, data=form(pest_area, **changes))
    assert error.value.field == field, error.value.message
    assert words in error.value.message
    assert Survey.objects.count() == 0


def test_no_survey_in_the_future_nor_outside_the_officers_communes(officer, commune_officer, pest_area):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(DomainError) as error:
        surveys.submit(actor=officer, data=form(pest_area, surveyed_on=tomorrow))
    assert error.value.field == "surveyed_on"
    # the commune officer of Kiến An surveys Kiến An, not Kiến Thành
    surveys.submit(actor=commune_officer, data=form(pest_area))
    with pytest.raises(DomainError) as error:
        surveys.submit(actor=commune_officer, data=form(pest_area, commune=pest_area.commune_b.code))
    assert error.value.field == "commune" and "không thuộc địa bàn" in error.value.message


def test_only_granted_officers_survey(pest_catalog, pest_area, officers):
    with pytest.raises(PermissionDenied):
        surveys.submit(actor=officers["xa_a"]["specialist"], data=form(pest_area))


def test_a_survey_point_gives_its_commune_and_place(officer, pest_area):
    from chinhquyenso.pests.models import Crop

    point = Station.objects.create(
        code="dd-kien-thanh",
        kind=Station.Kind.SURVEY_POINT,
        name="Điểm điều tra ấp Long Hòa",
        commune=pest_area.commune_b,
        crop=Crop.objects.get(code="lua"),
        latitude="10.560000",
        longitude="105.410000",
    )
    survey = surveys.submit(
        actor=officer, data=form(pest_area, station=point.code, commune="", crop="", latitude="", longitude="")
    )
    assert (survey.station, survey.commune, survey.crop.code) == (point, pest_area.commune_b, "lua")
    assert (survey.latitude, survey.longitude) == (Decimal("10.560000"), Decimal("105.410000"))


# ---------------------------------------------------------------- the page


def _post(pest_area, client_id: str, **fields) -> dict:
    post = {
        "client_id": client_id,
        "commune": pest_area.commune_a.code,
        "crop": "lua",
        "stage": "lam-dong",
        "surveyed_on": timezone.localdate().isoformat(),
        "latitude": "",
        "longitude": "",
        "area_ha": "",
        "note": "",
        "mat_do_ray-nau": "800",
        "ty_le_dao-on": "1,5",
        "mat_do_nhen-soi": "20",
    }
    post.update(fields)
    return post


@pytest.fixture
def signed_in(client, officer):
    client.force_login(officer)
    return client


def test_the_form_works_without_javascript(signed_in, pest_area):
    url = reverse("pests:survey_new")
    page = signed_in.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    client_id = re.search(r'name="client_id" value="([0-9a-f-]{36})"', html).group(1)
    assert 'src="/static/pests/survey.js"' in html and "<script>" not in html  # no inline script (CSP)
    for words in ("Rầy nâu", "Đạo ôn", "Thiên địch", "Nhện sói", "Đẻ nhánh", "Kiến An", 'name="mat_do_ray-nau"'):
        assert words in html
    response = signed_in.post(url, _post(pest_area, client_id))
    survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("pests:survey", args=[survey.pk])
    # a double tap (or the back button and send again): the first survey, nothing more
    again = signed_in.post(url, _post(pest_area, client_id), follow=True)
    assert Survey.objects.count() == 1 and "đã được gửi trước đó" in again.content.decode()
    detail = signed_in.get(reverse("pests:survey", args=[survey.pk])).content.decode()
    assert "Rầy nâu" in detail and "800,00" in detail and "1,50" in detail


def test_a_refused_form_keeps_what_was_typed_with_the_message_at_its_field(signed_in, pest_area):
    response = signed_in.post(
        reverse("pests:survey_new"), _post(pest_area, str(uuid.uuid4()), **{"mat_do_ray-nau": "-5"})
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="-5"' in html and 'aria-describedby="loi-ray-nau"' in html
    assert "phải từ 0 đến 100000" in html and 'data-errors="1"' in html
    assert Survey.objects.count() == 0


def test_the_offline_queue_gets_json_and_may_send_twice(signed_in, pest_area):
    url = reverse("pests:survey_new")
    client_id = str(uuid.uuid4())
    first = signed_in.post(url, _post(pest_area, client_id), HTTP_X_CQS_OFFLINE="1")
    assert first.status_code == 201
    body = first.json()
    assert body["replayed"] is False and body["url"] == reverse("pests:survey", args=[body["id"]])
    # the connection dropped before the answer came back: the queue sends the same form again
    second = signed_in.post(url, _post(pest_area, client_id), HTTP_X_CQS_OFFLINE="1")
    assert second.status_code == 200 and second.json() == {**body, "replayed": True}
    refused = signed_in.post(url, _post(pest_area, str(uuid.uuid4()), stage=""), HTTP_X_CQS_OFFLINE="1")
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Chưa chọn giai đoạn sinh trưởng.", "field": "stage", "code": "invalid"}
    assert Survey.objects.count() == 1


def test_list_and_detail_are_scoped(client, officer, commune_officer, pest_area):
    mine = surveys.submit(actor=officer, data=form(pest_area, commune=pest_area.commune_b.code))
    client.force_login(commune_officer)
    assert client.get(reverse("pests:survey", args=[mine.pk])).status_code == 404
    assert "Kiến Thành" not in client.get(reverse("pests:surveys")).content.decode()
    client.force_login(officer)
    assert "Kiến Thành" in client.get(reverse("pests:surveys")).content.decode()


def test_citizens_and_ungranted_officers_get_no_form(client, pest_catalog, officers, citizen):
    client.force_login(officers["tu_phap"]["specialist"])
    assert client.get(reverse("pests:survey_new")).status_code == 403
    client.force_login(citizen)
    assert client.get(reverse("pests:survey_new")).status_code == 403
