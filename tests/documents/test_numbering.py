"""Registers and numbers (Nghị định 30/2020): symbols, one register per agency per year (numbers
restart on 1 January), registers for some types, and numbers without gaps or duplicates when
8 issuers take them at once — on PostgreSQL (row locks) and on SQLite (one writer at a time)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from chinhquyenso.documents.models import Direction, DocumentType, Register
from chinhquyenso.documents.services import numbering
from chinhquyenso.org.models import Agency, AgencyKind

ISSUERS = 8
PER_ISSUER = 25


def type_(code):
    return DocumentType.objects.get(code=code)


def test_symbols_follow_decree_30():
    decision = DocumentType(code="quyet-dinh", name="Quyết định", abbreviation="QĐ")
    letter = DocumentType(code="cong-van", name="Công văn", abbreviation="")
    assert numbering.format_symbol(5, decision, "UBND") == "05/QĐ-UBND"
    assert numbering.format_symbol(123, decision, "STP") == "123/QĐ-STP"
    assert numbering.format_symbol(12, letter, "UBND", "VP") == "12/UBND-VP"
    assert numbering.format_symbol(12, letter, "UBND") == "12/UBND"


def test_default_abbreviations():
    assert numbering.default_abbreviation(Agency(name="UBND xã Kiến An", kind=AgencyKind.COMMUNE_COMMITTEE)) == "UBND"
    assert numbering.default_abbreviation(Agency(name="Sở Tư pháp", kind=AgencyKind.DEPARTMENT)) == "STP"
    sở = Agency(name="Sở Tài nguyên và Môi trường tỉnh An Giang", kind=AgencyKind.DEPARTMENT)
    assert numbering.default_abbreviation(sở) == "STNVMT"


def test_one_register_per_agency_per_year_and_direction(province):
    agency = province["tu_phap"]
    general = numbering.register_for(agency, Direction.OUTGOING, type_("quyet-dinh"), year=2026)
    assert general.name == "Sổ văn bản đi năm 2026" and general.agency_abbreviation == "STP"
    assert numbering.register_for(agency, Direction.OUTGOING, type_("cong-van"), year=2026) == general
    incoming = numbering.register_for(agency, Direction.INCOMING, year=2026)
    assert incoming != general and incoming.direction == Direction.INCOMING
    next_year = numbering.register_for(agency, Direction.OUTGOING, year=2027)
    assert next_year != general and next_year.year == 2027
    with transaction.atomic():
        assert [numbering.take_number(general) for _ in range(3)] == [1, 2, 3]
        assert numbering.take_number(next_year) == 1  # numbers start again on 1 January
        assert numbering.take_number(incoming) == 1


def test_a_register_for_some_types_numbers_them_apart(province):
    agency = province["ubnd"]
    decisions = Register.objects.create(
        agency=agency, year=2026, direction=Direction.OUTGOING, name="Sổ quyết định", agency_abbreviation="UBND"
    )
    decisions.document_types.add(type_("quyet-dinh"))
    assert numbering.register_for(agency, Direction.OUTGOING, type_("quyet-dinh"), year=2026) == decisions
    general = numbering.register_for(agency, Direction.OUTGOING, type_("cong-van"), year=2026)
    assert general != decisions and not general.document_types.exists()


@pytest.mark.django_db(transaction=True)
def test_a_number_is_taken_only_inside_the_transaction_that_uses_it(province):
    register = numbering.register_for(province["ubnd"], Direction.OUTGOING, year=2026)
    with pytest.raises(RuntimeError):
        numbering.take_number(register)
    # A rolled-back issue gives its number back: no gap.
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        numbering.take_number(register)
        1 / 0
    with transaction.atomic():
        assert numbering.take_number(register) == 1


def issue_numbers_at_once(register_id: int, issuers: int, per_issuer: int) -> list:
    """`issuers` threads, each with its own connection, take `per_issuer` numbers, one transaction each."""
    barrier, results, errors = threading.Barrier(issuers), [], []
    lock = threading.Lock()

    def issuer():
        try:
            register = Register.objects.get(pk=register_id)
            barrier.wait()
            for _ in range(per_issuer):
                with transaction.atomic():
                    number = numbering.take_number(register)
                with lock:
                    results.append(number)
        except Exception as error:  # noqa: BLE001 — reported below, with the thread's error
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=issuer) for _ in range(issuers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_eight_issuers_at_once_get_every_number_once_without_gaps(province):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip(
            "several connections at once on SQLite need a database file (the test database is in memory): "
            "see test_eight_issuers_on_a_sqlite_file"
        )
    register = numbering.register_for(province["ubnd"], Direction.OUTGOING, year=2026)
    numbers = issue_numbers_at_once(register.pk, ISSUERS, PER_ISSUER)
    assert sorted(numbers) == list(range(1, ISSUERS * PER_ISSUER + 1))


def test_eight_issuers_on_a_sqlite_file(tmp_path):
    """SQLite: the same 8 threads on a database file in WAL mode with IMMEDIATE transactions (the
    settings' SQLite options), through core.codes' counter — in a separate process, since this test
    run's own database may be in memory or PostgreSQL."""
    import os
    import subprocess
    import sys

    script = tmp_path / "issuers.py"
    script.write_text(SQLITE_SCRIPT, encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'numbers.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "chinhquyenso.settings",
    }
    done = subprocess.run(
        [sys.executable, str(script), str(ISSUERS), str(PER_ISSUER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == f"OK {ISSUERS * PER_ISSUER}"


SQLITE_SCRIPT = """
import sys
import threading

import django

django.setup()
from django.db import connection, transaction
from django.core.management import call_command

call_command("migrate", "core", verbosity=0)
from chinhquyenso.core.codes import next_number

issuers, per_issuer = int(sys.argv[1]), int(sys.argv[2])
barrier, numbers, errors, lock = threading.Barrier(issuers), [], [], threading.Lock()


def issuer():
    try:
        barrier.wait()
        for _ in range(per_issuer):
            with transaction.atomic():
                number = next_number("documents.register:1")
            with lock:
                numbers.append(number)
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()


threads = [threading.Thread(target=issuer) for _ in range(issuers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert not errors, errors
assert sorted(numbers) == list(range(1, issuers * per_issuer + 1)), "gaps or duplicates"
print(f"OK {len(numbers)}")
"""
