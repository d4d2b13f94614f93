"""Shared by the persons page tests (test_views, test_access, test_links): officers with the index's
grants and a small linked index written straight into the models (records, persons, a model version,
a finished run with pairs to review), so the pages are tested without running Splink."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group, Permission
from django.test import Client

from chinhquyenso.persons.models import (
    CandidatePair,
    ClusterChange,
    LinkModel,
    LinkRun,
    Person,
    Source,
    SourceRecord,
)

PASSWORD = "Mat-khau-2025"


def grant(user, *codenames: str):
    """Give `user` the index's grants the way the administration does: through a group."""
    group, _ = Group.objects.get_or_create(name="Chỉ mục cá nhân " + "+".join(codenames))
    group.permissions.set(Permission.objects.filter(content_type__app_label="persons", codename__in=codenames))
    user.groups.add(group)
    # has_perm caches per user object: the tests reload users through the client anyway.
    for attribute in ("_perm_cache", "_group_perm_cache", "_user_perm_cache", "_persons_grants"):
        if hasattr(user, attribute):
            delattr(user, attribute)
    return user


def viewer(officers):
    return grant(officers["xa_a"]["specialist"], "view_health_data")


def reviewer(officers):
    return grant(officers["xa_b"]["specialist"], "view_health_data", "review_links")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


HISTOGRAM = [
    {"from": w, "to": w + 2, "count": c}
    for w, c in zip(range(-10, 20, 2), [40, 80, 60, 30, 10, 5, 4, 3, 2, 3, 5, 8, 6, 4, 2], strict=True)
]


def record(source=Source.HEALTH, source_id="", **fields) -> SourceRecord:
    defaults = {
        "facility": "Bệnh viện Đa khoa Trung tâm An Giang",
        "full_name": "Nguyễn Văn An",
        "sex": "nam",
        "birth_year": 1980,
        "birth_month": 5,
        "birth_day": 12,
    }
    defaults.update(fields)
    return SourceRecord.objects.create(
        source=source, source_id=source_id or f"bv/{SourceRecord.objects.count() + 1}", **defaults
    )


def person(code: str, *records: SourceRecord) -> Person:
    found = Person.objects.create(
        code=code,
        record_count=len(records),
        golden={
            "full_name": {"value": records[0].full_name, "source": records[0].source, "record_id": records[0].pk},
            "sex": {"value": records[0].sex, "source": records[0].source, "record_id": records[0].pk},
        },
    )
    SourceRecord.objects.filter(pk__in=[r.pk for r in records]).update(person=found)
    for r in records:
        r.person = found
    return found


def index(reviewer_user=None) -> dict:
    """Six health records at two facilities and one civil record: An has two health records and a civil
    one (one person), Bình two (one person) and an uncertain pair Chi/Chí (two persons) left to review.
    Seven records, four persons."""
    an1 = record(source_id="bv-tt/1", id_number="089080001234", phone="0912345678")
    an2 = record(source_id="bv-cm/7", facility="Trung tâm Y tế huyện Chợ Mới", full_name="Nguyen Van An")
    an3 = record(source=Source.CIVIL, source_id="501", facility="", full_name="Nguyễn Văn An")
    binh1 = record(source_id="bv-tt/2", full_name="Trần Thị Bình", sex="nu", birth_year=1975)
    binh2 = record(
        source_id="bv-cm/8",
        facility="Trung tâm Y tế huyện Chợ Mới",
        full_name="Trần Thị Bình",
        sex="nu",
        birth_year=1975,
    )
    chi = record(source_id="bv-tt/3", full_name="Lê Thị Chi", sex="nu", birth_year=1990, birth_day=3, birth_month=4)
    chi2 = record(
        source_id="bv-cm/9",
        facility="Trung tâm Y tế huyện Chợ Mới",
        full_name="Lê Thị Chí",
        sex="nu",
        birth_year=1990,
        birth_day=4,
        birth_month=3,
    )
    p_an = person("CN0000001", an1, an2, an3)
    p_binh = person("CN0000002", binh1, binh2)
    p_chi = person("CN0000003", chi)
    p_chi2 = person("CN0000004", chi2)
    model = LinkModel.objects.create(
        version=1,
        engine="duckdb",
        parameters={"link_type": "dedupe_only"},
        link_weight=10.0,
        review_weight=2.0,
        training={"histogram": HISTOGRAM, "labels_used": 0, "records": 7},
    )
    run = LinkRun.objects.create(
        model=model,
        engine="duckdb",
        status=LinkRun.Status.DONE,
        records=7,
        pairs=12,
        linked_pairs=4,
        review_pairs=2,
        persons=4,
        seconds=1.5,
        finished_at=dt.datetime(2025, 6, 1, 3, tzinfo=dt.UTC),
    )
    comparisons = [
        {"column": "given", "label": "Tên", "level": "gần giống", "weight": 2.5},
        {"column": "birth", "label": "Ngày sinh", "level": "đảo ngày, tháng", "weight": 1.2},
        {"column": "phone", "label": "Số điện thoại", "level": "thiếu", "weight": 0.0},
        {"column": "sex", "label": "Giới tính", "level": "khớp", "weight": 0.8},
    ]
    hard = CandidatePair.objects.create(
        run=run,
        left=chi,
        right=chi2,
        match_weight=4.5,
        match_probability=0.52,
        prior_weight=-5.0,
        comparisons=comparisons,
    )
    easier = CandidatePair.objects.create(
        run=run,
        left=an1,
        right=binh1,
        match_weight=8.0,
        match_probability=0.9,
        prior_weight=-5.0,
        comparisons=comparisons,
    )
    change = ClusterChange.objects.create(
        kind=ClusterChange.Kind.RUN, run=run, before={}, after={str(r.pk): p_an.pk for r in (an1, an2, an3)}
    )
    return {
        "records": {"an1": an1, "an2": an2, "an3": an3, "binh1": binh1, "binh2": binh2, "chi": chi, "chi2": chi2},
        "persons": {"an": p_an, "binh": p_binh, "chi": p_chi, "chi2": p_chi2},
        "model": model,
        "run": run,
        "hard": hard,
        "easier": easier,
        "change": change,
    }
