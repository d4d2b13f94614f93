"""The header offers each officer the pages that open for them, and no page that answers 403."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole

pytestmark = pytest.mark.django_db


def menu(user, url: str) -> list[str]:
    client = Client()
    client.force_login(user)
    page = client.get(url).content.decode()
    nav = re.search(r'<nav aria-label="Chính">(.*?)</nav>', page, re.S).group(1)
    return re.findall(r">([^<>]+)</a>", nav)


def opens(user, url: str) -> bool:
    client = Client()
    client.force_login(user)
    return client.get(url).status_code == 200


def test_registers_are_offered_only_to_those_they_open_for(officers):
    registers = reverse("civil_records:index")
    commune_officer, department_officer = officers["xa_a"]["specialist"], officers["tu_phap"]["specialist"]
    inbox = reverse("backoffice:inbox")
    assert "Hộ tịch" in menu(commune_officer, inbox) and opens(commune_officer, registers)
    assert "Hộ tịch" not in menu(department_officer, inbox) and not opens(department_officer, registers)


def test_the_ioc_operator_is_offered_the_dashboard_that_opens_for_them(admin_user):
    operator = accounts.create_officer(
        actor=admin_user,
        username="dieuphoi",
        password="Mat-khau-2025",
        full_name="Điều phối viên IOC",
        global_role=GlobalRole.IOC_OPERATOR,
    )
    assert "Điều hành (IOC)" in menu(operator, reverse("feedback:queue"))
    assert opens(operator, reverse("dashboard:home"))
