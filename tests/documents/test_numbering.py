"""Registers and numbers (Nghị định 30/2020): symbols, one register per agency per year (numbers
restart on 1 January), registers for some types, and numbers without gaps or duplicates when
8 issuers take them at once — on PostgreSQL (row locks) and on SQLite (one writer at a time,
8 processes issuing real documents)."""

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
            "see test_eight_issuing_processes_on_a_sqlite_file"
        )
    register = numbering.register_for(province["ubnd"], Direction.OUTGOING, year=2026)
    numbers = issue_numbers_at_once(register.pk, ISSUERS, PER_ISSUER)
    assert sorted(numbers) == list(range(1, ISSUERS * PER_ISSUER + 1))


def test_eight_issuing_processes_on_a_sqlite_file(tmp_path):
    """SQLite: 8 processes, each with its own connection to one database file (WAL, IMMEDIATE
    transactions: the settings' SQLite options), issue real documents at once through the clerk's
    reservation that issuing uses (outgoing._reserve_number: the register of the year, its number,
    the symbol, the timeline and audit rows) — a separate database, since this test run's own may be
    in memory or PostgreSQL. The registered numbers have no gaps and no duplicates."""
    import os
    import subprocess
    import sys
    import time

    script = tmp_path / "issuers.py"
    script.write_text(SQLITE_SCRIPT, encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'numbers.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "chinhquyenso.settings",
    }

    def run(*arguments) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), *arguments], env=env, capture_output=True, text=True)

    prepared = run("prepare", str(ISSUERS * SQLITE_PER_ISSUER))
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    ids = [int(pk) for pk in prepared.stdout.split()[-1].split(",")]
    slices = [ids[index::ISSUERS] for index in range(ISSUERS)]
    issuers = [
        subprocess.Popen(
            [sys.executable, str(script), "issue", ",".join(map(str, part)), str(tmp_path / f"ready-{index}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index, part in enumerate(slices)
    ]
    # All set up and waiting, then all at once.
    deadline = time.monotonic() + 300
    while not all((tmp_path / f"ready-{index}").exists() for index in range(ISSUERS)):
        assert time.monotonic() < deadline and all(i.poll() is None for i in issuers), "an issuer did not start"
        time.sleep(0.05)
    (tmp_path / "go").touch()
    for issuer in issuers:
        out, err = issuer.communicate(timeout=600)
        assert issuer.returncode == 0, err[-3000:]
        assert out.strip().endswith(f"ISSUED {SQLITE_PER_ISSUER}"), out
    checked = run("check")
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert checked.stdout.strip().splitlines()[-1] == f"OK {ISSUERS * SQLITE_PER_ISSUER}"


SQLITE_PER_ISSUER = 12
SQLITE_SCRIPT = """
import pathlib
import sys
import time

import django

django.setup()
from django.core.management import call_command
from django.db import connection

from chinhquyenso.accounts.models import Membership, Role, User
from chinhquyenso.documents.models import Direction, Document, DocumentType
from chinhquyenso.documents.services import outgoing
from chinhquyenso.org.models import Agency, AgencyKind

mode = sys.argv[1]
if mode == "prepare":
    call_command("migrate", verbosity=0)
    from chinhquyenso.documents.reference import load_reference_data

    load_reference_data()
    agency = Agency.objects.create(
        name="Sở Tư pháp", kind=AgencyKind.DEPARTMENT, code="so-tu-phap", electronic_code="000.00.15.H01"
    )
    clerk = User.objects.create(username="clerk", full_name="Văn thư", kind=User.Kind.OFFICER)
    Membership.objects.create(user=clerk, agency=agency, role=Role.CLERK)
    decision = DocumentType.objects.get(code="quyet-dinh")
    ids = [
        Document.objects.create(
            direction=Direction.OUTGOING,
            agency=agency,
            status=Document.Status.SIGNED,
            document_type=decision,
            excerpt=f"Quyết định số {n}",
            signed=True,
            signature_count=1,
        ).pk
        for n in range(int(sys.argv[2]))
    ]
    print(",".join(map(str, ids)))
elif mode == "issue":
    clerk = User.objects.get(username="clerk")
    documents = [Document.objects.get(pk=int(pk)) for pk in sys.argv[2].split(",")]
    connection.close()
    ready = pathlib.Path(sys.argv[3])
    ready.touch()
    while not (ready.parent / "go").exists():  # every issuer starts at the same moment
        time.sleep(0.01)
    for document in documents:
        reserved = outgoing._reserve_number(document, clerk)
        assert reserved.status == Document.Status.NUMBERED and reserved.number, reserved
    print(f"ISSUED {len(documents)}")
else:
    rows = list(Document.objects.filter(direction=Direction.OUTGOING).values_list("register_id", "number", "symbol"))
    assert len({register for register, _, _ in rows}) == 1, "one register of the year"
    numbers = sorted(number for _, number, _ in rows)
    assert numbers == list(range(1, len(rows) + 1)), f"gaps or duplicates: {numbers}"
    assert len({symbol for _, _, symbol in rows}) == len(rows), "duplicate symbols"
    print(f"OK {len(rows)}")
"""
