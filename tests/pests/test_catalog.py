"""The shipped catalog and its loader, the officers' catalog and station pages, the administration of
the catalog, and the app's access rules."""

import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from chinhquyenso.core.audit import AuditRecord
from chinhquyenso.pests import access
from chinhquyenso.pests.models import Crop, Organism, Season, Station, Threshold, TrapClass, TrapMessage
from chinhquyenso.pests.services.catalog import load_catalog, season_on, shipped, stage_on

pytestmark = pytest.mark.django_db


def test_the_shipped_catalog_loads(pest_catalog):
    assert pest_catalog == {"crops": 1, "organisms": 26, "trap_classes": 35, "thresholds": 21, "seasons": 13}
    assert TrapClass.objects.count() == 35 and TrapClass.objects.filter(organism__isnull=False).count() == 19
    assert TrapClass.objects.get(code="chau-chau-lua").max_per_night == 5000
    pests = Organism.objects.filter(is_natural_enemy=False)
    assert pests.filter(kind="disease").count() == 5 and pests.exclude(kind="disease").count() == 13
    assert Organism.objects.filter(is_natural_enemy=True).count() == 8
    assert Organism.objects.get(code="ray-nau").scientific_name.startswith("Nilaparvata lugens")
    assert Organism.objects.get(code="dao-on").scientific_name.startswith("Pyricularia oryzae")
    assert Organism.objects.get(code="oc-buou-vang").kind == "mollusc"
    assert [s["code"] for s in Crop.objects.get(code="lua").stages] == ["ma", "de-nhanh", "lam-dong", "tro-chin"]
    # Every organism has its text in Vietnamese; every threshold its source.
    for organism in Organism.objects.all():
        assert organism.description and organism.damage and organism.management, organism.code
    assert not Threshold.objects.filter(source="").exists()


def test_thresholds_say_which_figures_are_regulations(pest_catalog):
    brown = Threshold.objects.get(organism__code="ray-nau", stage="de-nhanh", measure="per_m2")
    assert brown.warn_level == 3000 and "QCVN 01-38:2010/BNNPTNT" in brown.source
    trap = Threshold.objects.get(organism__code="ray-nau", measure="per_trap_night")
    assert trap.warn_level == 5000 and "không phải quy chuẩn" in trap.source
    leaf = {t.stage: t.warn_level for t in Threshold.objects.filter(organism__code="sau-cuon-la-nho", measure="per_m2")}
    assert leaf == {"de-nhanh": 50, "lam-dong": 20}
    # A figure that is not from the regulation says so.
    for threshold in Threshold.objects.exclude(source__contains="QCVN"):
        assert "giá trị làm việc" in threshold.source.lower(), threshold


def test_seasons_cover_every_day_of_2024_to_2027(pest_catalog):
    day = dt.date(2024, 1, 1)
    while day <= dt.date(2027, 12, 31):
        assert season_on(day) is not None, day
        day += dt.timedelta(days=1)
    season = season_on(dt.date(2026, 12, 7))
    assert (season.code, season.get_kind_display(), season.year) == ("dong-xuan-2026-2027", "Đông Xuân", 2027)
    assert Season.objects.get(code="he-thu-2025").starts_on == dt.date(2025, 4, 1)


def test_reloading_adds_only_what_is_missing_and_keeps_edits(pest_catalog, admin_user):
    brown = Organism.objects.get(code="ray-nau")
    brown.management = "Theo hướng dẫn riêng của Chi cục tỉnh."
    brown.save()
    Threshold.objects.filter(organism=brown, measure="per_trap_night").update(warn_level=8000)
    Threshold.objects.filter(organism__code="bac-la").delete()
    TrapClass.objects.filter(code="ruoi-muoi").update(name="Ruồi muỗi (sửa)")
    again = load_catalog(actor=admin_user)
    assert again == {"crops": 0, "organisms": 0, "trap_classes": 0, "thresholds": 1, "seasons": 0}
    assert Organism.objects.get(code="ray-nau").management == "Theo hướng dẫn riêng của Chi cục tỉnh."
    assert Threshold.objects.get(organism=brown, measure="per_trap_night").warn_level == 8000
    assert TrapClass.objects.get(code="ruoi-muoi").name == "Ruồi muỗi (sửa)"
    record = AuditRecord.objects.filter(action="pests.catalog.load").last()
    assert record.after["thresholds"] == 1 and record.actor == admin_user
    assert load_catalog() == dict.fromkeys(again, 0)


def test_growth_stage_from_the_sowing_date(pest_catalog):
    rice = Crop.objects.get(code="lua")
    sown = dt.date(2026, 11, 10)
    assert [stage_on(rice, sown, sown + dt.timedelta(days=d)) for d in (0, 20, 21, 45, 46, 70, 106)] == [
        "ma",
        "ma",
        "de-nhanh",
        "de-nhanh",
        "lam-dong",
        "tro-chin",
        "",
    ]
    assert stage_on(rice, None, sown) == ""


def test_every_trap_class_has_a_plausible_maximum():
    rows = shipped()["trap_classes"]
    assert len({r["code"] for r in rows}) == 35 and all(r["max_per_night"] > 0 for r in rows)


def test_access_rules(pest_officer, commune_officer, pest_area, officers, citizen, pest_grant):
    assert access.can_survey(pest_officer) and not access.can_manage_catalog(pest_officer)
    assert access.scope_communes(pest_officer) is None
    assert access.scope_communes(commune_officer) == {pest_area.commune_a.pk}
    ungranted = officers["xa_b"]["specialist"]
    assert not access.can_view(ungranted) and not access.can_view(citizen)
    pest_grant(ungranted, "confirm_identification")
    assert access.can_view(ungranted) and access.can_confirm(ungranted) and not access.can_survey(ungranted)


def page(user, url):
    client = Client()
    client.force_login(user)
    return client.get(url)


def test_the_catalog_pages(pest_catalog, pest_officer, officers):
    response = page(pest_officer, "/can-bo/sau-benh/danh-muc/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Rầy nâu",
        "Nilaparvata lugens",
        "Đạo ôn",
        "Bọ xít mù xanh",
        "QCVN 01-38:2010/BNNPTNT",
        "rầy-khác"[:3],
    ):
        assert text in html
    assert html.count("<code>") >= 35
    detail = page(pest_officer, "/can-bo/sau-benh/danh-muc/ray-nau/").content.decode()
    assert "Biện pháp quản lý" in detail and "5.000" in detail and "con/bẫy/đêm" in detail
    assert page(pest_officer, "/can-bo/sau-benh/danh-muc/khong-co/").status_code == 404
    assert page(officers["xa_a"]["specialist"], "/can-bo/sau-benh/danh-muc/").status_code == 403


def test_the_stations_page_shows_status_and_scope(make_trap, pest_officer, commune_officer, pest_area, ingest_counts):
    online, secret = make_trap("bd-kien-an-01")
    quiet, _ = make_trap("bd-kien-thanh-01", pest_area.commune_b)
    ingest_counts(online, secret, {"ray-nau": 10})
    since = timezone.now() - dt.timedelta(days=2)
    Station.objects.filter(pk=quiet.pk).update(silent_since=since, last_message_at=since)
    html = page(pest_officer, "/can-bo/sau-benh/tram/").content.decode()
    assert "bd-kien-an-01" in html and "bd-kien-thanh-01" in html
    assert re.search(r'id="dang-gui">1<', html) and re.search(r'id="im-lang">1<', html)
    assert "Im lặng từ" in html or "Im lặng" in html
    # The commune officer sees their commune's station only.
    own = page(commune_officer, "/can-bo/sau-benh/tram/").content.decode()
    assert "bd-kien-an-01" in own and "bd-kien-thanh-01" not in own


def test_the_administration_issues_a_secret_once_and_reviews_flagged_messages(smart_trap, admin_user, ingest_counts):
    station, secret = smart_trap
    client = Client()
    client.force_login(admin_user)
    for url in (
        "/quan-tri/pests/organism/",
        "/quan-tri/pests/threshold/",
        "/quan-tri/pests/station/",
        "/quan-tri/pests/trapmessage/",
        "/quan-tri/pests/ingestproblem/",
        "/quan-tri/pests/subscription/",
    ):
        assert client.get(url).status_code == 200, url
    response = client.post("/quan-tri/pests/station/", {"action": "issue_secrets", "_selected_action": [station.pk]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    shown = re.search(r"<code>([0-9a-f]{64})</code>", response.content.decode()).group(1)
    assert shown != secret
    flagged = ingest_counts(station, shown, {"chau-chau-lua": 99999})
    assert flagged.status == "flagged"
    client.post("/quan-tri/pests/trapmessage/", {"action": "accept_messages", "_selected_action": [flagged.message.pk]})
    message = TrapMessage.objects.get()
    assert message.status == "accepted" and message.counts.get().accepted
    assert AuditRecord.objects.filter(action="pests.message.review").count() == 1


def test_the_department_edits_the_catalog_in_the_administration(pest_catalog, admin_user):
    client = Client()
    client.force_login(admin_user)
    threshold = Threshold.objects.get(organism__code="ray-nau", measure="per_trap_night")
    response = client.get(f"/quan-tri/pests/threshold/{threshold.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(warn_level="6000", action_level="20000", organism=threshold.organism_id, crop=threshold.crop_id)
    response = client.post(f"/quan-tri/pests/threshold/{threshold.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    threshold.refresh_from_db()
    assert threshold.warn_level == 6000
    assert AuditRecord.objects.filter(action="pests.threshold.update").exists()


def test_cli_load_catalog(db):
    out = io.StringIO()
    call_command("pests", "load-catalog", "--json", stdout=out)
    assert json.loads(out.getvalue())["trap_classes"] == 35
    out = io.StringIO()
    call_command("pests", "load-catalog", stdout=out)
    assert "Đã thêm 0 sinh vật" in out.getvalue()


def test_a_catalog_editor_opens_the_administration_for_the_pests_models_only(
    pest_catalog, pest_area, pest_officer, pest_grant, officers
):
    editor = pest_grant(pest_officer, "manage_pest_catalog")
    client = Client()
    client.force_login(editor)
    index = client.get("/quan-tri/")
    assert index.status_code == 200
    apps = {app["app_label"] for app in index.context["app_list"]}
    assert apps == {"pests"}
    threshold = Threshold.objects.first()
    for url in (
        "/quan-tri/pests/organism/",
        f"/quan-tri/pests/threshold/{threshold.pk}/change/",
        "/quan-tri/pests/station/add/",
        "/quan-tri/pests/trapmessage/",
    ):
        assert client.get(url).status_code == 200, url
    for url in ("/quan-tri/org/agency/", "/quan-tri/accounts/user/", "/quan-tri/core/auditrecord/"):
        assert client.get(url).status_code == 403, url
    # The editor adds a station (communes offered without the agencies' administration).
    form = client.get("/quan-tri/pests/station/add/").context["adminform"].form
    assert pest_area.commune_c in form.fields["commune"].queryset
    response = client.post(
        "/quan-tri/pests/station/add/",
        {
            "code": "bd-long-dien-a-01",
            "kind": "smart_trap",
            "name": "Bẫy đèn xã Long Điền A",
            "commune": pest_area.commune_c.pk,
            "crop": Crop.objects.get(code="lua").pk,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AuditRecord.objects.filter(action="pests.station.create", actor=editor).exists()
    # A plain officer (even with another pests grant) is sent to sign in as an administrator.
    plain = Client()
    plain.force_login(officers["xa_a"]["specialist"])
    assert plain.get("/quan-tri/").status_code == 302
    plain.force_login(pest_grant(officers["xa_b"]["specialist"], "survey_pests"))
    assert plain.get("/quan-tri/pests/organism/").status_code == 302
