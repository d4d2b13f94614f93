"""The population database (CSDL quốc gia về dân cư) over the data bus, against its simulator as a
separate process: found, known people, not found, outage, timeout, access refused — and the
counter's "not verified" fallback whenever the bus cannot answer. No citizen ID in a log line."""

import datetime as dt
import logging
import time

import pytest

from chinhquyenso.exchange import connectors
from chinhquyenso.exchange.bus import registry
from chinhquyenso.exchange.connectors.simulators import made_up_person
from chinhquyenso.exchange.models import BusAccessRight, BusLogEntry
from chinhquyenso.exchange.national import find_person, population_registry
from chinhquyenso.exchange.national.base import NationalSystemError, Person
from chinhquyenso.exchange.national.http import HttpPopulationRegistry
from tests.conftest import vn
from tests.exchange.connectors.busfixtures import connect, spawn, write_json

KNOWN = {
    "identity_number": "089201001239",  # ends in 9: only the people file makes it known
    "full_name": "Trần Văn Bé",
    "birth_date": "1990-03-15",
    "gender": "Nam",
    "address": "Ấp Long Hòa, xã Kiến An, tỉnh An Giang",
}
MADE_UP = "089201001234"


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    people = write_json(tmp_path_factory.mktemp("population") / "people.json", [KNOWN])
    sim = spawn("population", "POPULATION_SIMULATOR", "--people", people, "--province", "An Giang")
    yield sim
    sim.stop()


@pytest.fixture
def population(db, settings, simulator):
    simulator.reset()
    connect(
        settings,
        POPULATION_ADAPTER="bus",
        POPULATION_BASE_URL=simulator.url,
        NATIONAL_TIMEOUT_SECONDS=2,
        NATIONAL_RETRIES=1,
        NATIONAL_BACKOFF_SECONDS=0,
    )
    return simulator


def test_lookup_through_the_bus(population):
    adapter = population_registry()
    assert isinstance(adapter, HttpPopulationRegistry)
    expected = made_up_person(MADE_UP, province="An Giang")
    person = adapter.lookup("0892 0100 1234")
    assert person == Person(
        MADE_UP,
        expected["full_name"],
        dt.date.fromisoformat(expected["birth_date"]),
        expected["gender"],
        expected["address"],
    )
    assert adapter.lookup(KNOWN["identity_number"]) == Person(
        KNOWN["identity_number"], "Trần Văn Bé", dt.date(1990, 3, 15), "Nam", KNOWN["address"]
    )
    entries = list(BusLogEntry.objects.order_by("seq"))
    assert [(e.client, e.service, e.operation, e.status, e.outcome) for e in entries] == [
        (connectors.client_id("mot-cua"), connectors.service_id("population"), "lookup", 200, "ok")
    ] * 2


def test_the_old_adapter_value_http_means_the_bus(population, settings):
    settings.CQS = {**settings.CQS, "POPULATION_ADAPTER": "http"}
    assert population_registry().lookup(MADE_UP).identity_number == MADE_UP
    assert BusLogEntry.objects.filter(operation="lookup").count() == 1


def test_not_found_is_none(population):
    assert HttpPopulationRegistry().lookup("089201005679") is None
    assert HttpPopulationRegistry().lookup("12345") is None
    assert find_person("089201005679") == (None, True)


def test_the_id_travels_in_the_body_never_in_the_url(population):
    import httpx

    from chinhquyenso.exchange.bus import gateway
    from chinhquyenso.exchange.bus.errors import BusError

    # The simulator answers the operation's route only: POST /persons/lookup with the ID in the body.
    asked = httpx.post(f"{population.url}/persons/lookup", json={"identity_number": MADE_UP}, timeout=10)
    assert asked.status_code == 200 and asked.json()["identity_number"] == MADE_UP
    assert httpx.get(f"{population.url}/persons/{MADE_UP}", timeout=10).status_code == 404
    assert httpx.post(f"{population.url}/persons/lookup", json={}, timeout=10).status_code == 400
    # The bus refuses a body the request schema does not allow, before the provider is asked.
    population.reset()
    for body in ({"identity_number": "12345"}, {"identity_number": MADE_UP, "full_name": "x"}, {}):
        with pytest.raises(BusError) as error:
            gateway.call(
                client=connectors.client_id("mot-cua"),
                service=connectors.service_id("population"),
                operation="lookup",
                json_body=body,
            )
        assert error.value.code == "invalid_body"
    assert population.stats()["requests"] == 0


def test_outage_is_tried_twice_then_not_verified(population):
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup("000000123456")
    assert error.value.message == (
        "Cơ sở dữ liệu quốc gia về dân cư đang gặp sự cố (mã lỗi HTTP 503, đã thử 2 lần); hãy thử lại sau."
    )
    assert population.stats()["requests"] == 2
    assert find_person("000000123456") == (None, False)


def test_a_failure_then_an_answer_succeeds(population):
    population.fail(1, status=502)
    assert HttpPopulationRegistry().lookup(MADE_UP).identity_number == MADE_UP
    assert population.stats()["requests"] == 2


def test_timeout_never_blocks_the_counter(population, settings, officers, birth_procedure):
    settings.CQS = {**settings.CQS, "NATIONAL_TIMEOUT_SECONDS": 0.3}
    population.fail(2, delay=3)
    started = time.monotonic()
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup(MADE_UP)
    assert time.monotonic() - started < 2
    assert error.value.message.startswith("Cơ sở dữ liệu quốc gia về dân cư không phản hồi trong 0,3 giây")
    population.fail(2, delay=3)
    started = time.monotonic()
    dossier = counter_submit(officers, identity_number=MADE_UP, full_name="Ai Đó")
    assert time.monotonic() - started < 3
    assert dossier.pk and dossier.applicant_verified is False
    assert set(BusLogEntry.objects.values_list("outcome", flat=True)) == {"timeout"}


def test_the_counter_verifies_through_the_bus(population, officers, birth_procedure):
    assert counter_submit(
        officers, identity_number=KNOWN["identity_number"], full_name="trần văn bé"
    ).applicant_verified
    assert not counter_submit(officers, identity_number="089201005679", full_name="Trần Văn Bé").applicant_verified


def test_access_refused_when_the_right_is_removed(population):
    BusAccessRight.objects.filter(client__code="mot-cua", service__code="dan-cu").delete()
    registry.invalidate()
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup(MADE_UP)
    assert error.value.message == (
        "Hệ thống chưa được cấp quyền gọi Cơ sở dữ liệu quốc gia về dân cư trên trục liên thông; "
        "hãy liên hệ quản trị hệ thống."
    )
    assert find_person(MADE_UP) == (None, False)
    assert population.stats()["requests"] == 0  # refused at the bus: the provider never asked
    entry = BusLogEntry.objects.order_by("seq").last()
    assert (entry.outcome, entry.error_code) == ("refused", "access_denied")


def test_an_open_circuit_answers_at_once_and_the_counter_goes_on(population, settings):
    settings.CQS = {**settings.CQS, "BUS_CIRCUIT_FAILURES": 2, "BUS_CIRCUIT_OPEN_SECONDS": 60}
    assert find_person("000000123456") == (None, False)  # two failed attempts: the circuit opens
    asked = population.stats()["requests"]
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup(MADE_UP)
    assert error.value.message.startswith("Cơ sở dữ liệu quốc gia về dân cư tạm ngừng nhận yêu cầu")
    assert find_person(MADE_UP) == (None, False)
    assert population.stats()["requests"] == asked  # refused by the bus without asking the provider
    assert BusLogEntry.objects.filter(outcome="circuit_open").count() == 2


def test_no_address_configured_says_which_setting(population, settings):
    settings.CQS = {**settings.CQS, "POPULATION_BASE_URL": ""}
    registry.invalidate()
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup(MADE_UP)
    assert error.value.message.startswith("Chưa cấu hình địa chỉ kết nối Cơ sở dữ liệu quốc gia về dân cư")
    assert "CQS_POPULATION_BASE_URL" in error.value.message


def test_registry_not_loaded_is_not_verified(db, settings):
    settings.CQS = {**settings.CQS, "POPULATION_ADAPTER": "bus"}
    assert find_person(MADE_UP) == (None, False)  # the registry's snapshot is this test's (tests/conftest.py)


def test_no_citizen_id_in_any_log_line(population, settings, caplog):
    caplog.set_level(logging.DEBUG)
    HttpPopulationRegistry().lookup(MADE_UP)
    HttpPopulationRegistry().lookup("089201005679")
    find_person("000000123456")
    population.fail(2, delay=3)
    settings.CQS = {**settings.CQS, "NATIONAL_TIMEOUT_SECONDS": 0.2}
    find_person("089201004321")
    BusAccessRight.objects.filter(client__code="mot-cua", service__code="dan-cu").delete()
    registry.invalidate()
    find_person("089201008765")
    assert caplog.records  # the failures were logged …
    for number in (MADE_UP, "089201005679", "000000123456", "089201004321", "089201008765"):
        assert number not in caplog.text  # … without whose record was asked for


def counter_submit(officers, **applicant):
    from chinhquyenso.dossiers import services as dossiers

    return dossiers.submit(
        actor=officers["xa_a"]["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant=applicant,
        at=vn(2025, 1, 20, 9, 30),
    )


def test_the_demo_starts_the_simulator_and_its_citizens_verify(db, settings, tmp_path, citizen, province):
    import io

    from chinhquyenso.demo.management.commands.demo import simulator_environment, start_population_simulator

    settings.DATA_DIR = tmp_path
    connect(settings, POPULATION_ADAPTER="simulator")
    out = io.StringIO()
    process = start_population_simulator(out)
    try:
        assert settings.CQS["POPULATION_ADAPTER"] == "bus" and settings.CQS["POPULATION_BASE_URL"] in out.getvalue()
        assert simulator_environment()["CQS_POPULATION_BASE_URL"] == settings.CQS["POPULATION_BASE_URL"]
        person, answered = find_person(citizen.identity_number)
        assert answered and person.matches_name("Nguyễn Thị Hoà")  # a registered demo citizen: known
        assert "tỉnh" in person.address
        assert BusLogEntry.objects.filter(operation="lookup", outcome="ok").count() == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
