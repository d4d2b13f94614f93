"""A small province with known numbers for the dashboard: Q4/2024 (the
previous quarter) and Q1/2025, birth registrations in two communes.

Q4/2024  P1 xã Kiến An, online, early · P2 xã Kiến An, counter, late
Q1/2025  D1, D2 xã Kiến An, online, early · D3 xã Kiến An, counter, accepted
         10/02/2025 and still open (overdue since 13/02/2025 17:00)
         D4 xã Kiến Thành, by post, on time · D5 xã Kiến Thành, online, late

Province, Q1/2025: received 5 (3 online: 60,0%), finished 4 (3 early or on
time: 75,0%, 1 late), digitized 0 (0,0%). Q4/2024: 2 received, 1 online
(50,0%), 2 finished, 1 on time (50,0%)."""

import datetime as dt

import pytest
from django.test import Client

from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.accounts.services import create_officer
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier
from tests.conftest import vn

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def finish(dossier, officers, *, at):
    services.forward(dossier, actor=officers["specialist"], at=at)
    services.forward(dossier, actor=officers["leader"], at=at + dt.timedelta(minutes=30))


def online(citizen, agency_code, officers, at):
    dossier = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code=agency_code,
        components=PAPER,
        at=at - dt.timedelta(hours=1),
    )
    services.accept(dossier, actor=officers["counter_officer"], at=at)
    return dossier


def counter(citizen, agency_code, officers, at):
    return services.receive_at_counter(
        actor=officers["counter_officer"],
        procedure_code="1.001193",
        agency_code=agency_code,
        applicant={"identity_number": citizen.identity_number, "full_name": citizen.full_name},
        components=PAPER,
        decision="accept",
        at=at,
    )


@pytest.fixture
def dataset(registry, province, officers, birth_procedure, citizen):
    a, b = officers["xa_a"], officers["xa_b"]
    d = {}
    d["P1"] = online(citizen, "xa-kien-an", a, vn(2024, 10, 7, 9))
    finish(d["P1"], a, at=vn(2024, 10, 8, 9))
    d["P2"] = counter(citizen, "xa-kien-an", a, vn(2024, 11, 4, 9))
    finish(d["P2"], a, at=vn(2024, 11, 20, 9))
    d["D1"] = online(citizen, "xa-kien-an", a, vn(2025, 1, 6, 9))
    finish(d["D1"], a, at=vn(2025, 1, 7, 9))
    d["D2"] = online(citizen, "xa-kien-an", a, vn(2025, 1, 8, 9))
    finish(d["D2"], a, at=vn(2025, 1, 9, 9))
    d["D3"] = counter(citizen, "xa-kien-an", a, vn(2025, 2, 10, 9))
    d["D4"] = services.submit(
        actor=b["counter_officer"],
        procedure_code="1.001193",
        channel="post",
        agency_code="xa-kien-thanh",
        applicant={"identity_number": citizen.identity_number, "full_name": citizen.full_name},
        components=PAPER,
        at=vn(2025, 1, 13, 8),
    )
    services.accept(d["D4"], actor=b["counter_officer"], at=vn(2025, 1, 13, 9))
    finish(d["D4"], b, at=vn(2025, 1, 16, 9))
    d["D5"] = online(citizen, "xa-kien-thanh", b, vn(2025, 3, 3, 9))
    finish(d["D5"], b, at=vn(2025, 3, 20, 9))
    return {k: Dossier.objects.get(pk=v.pk) for k, v in d.items()}


@pytest.fixture
def auditor(db):
    return create_officer(
        actor=None, username="thanh.tra", password=None, full_name="Thanh tra tỉnh", global_role=GlobalRole.AUDITOR
    )


@pytest.fixture(autouse=True)
def small_province_ranks(settings):
    """The small province has 2 to 3 dossiers per commune: rank from 2 (the
    default minimum, 10, is tested in test_rankings)."""
    settings.CQS = {**settings.CQS, "DASHBOARD_RANKING_MIN_DOSSIERS": 2}
