"""tests/external_tools.py: a test whose outside program (pdfsig, certutil, SoftHSM2, Mosquitto, chromium)
is missing is a visible skip on a developer's machine and a failure under CQS_REQUIRE_TOOLS=1, which .ci/run
exports — so a broken CI install cannot pass silently. The browser's own run is in test_browser_skip.py."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_browser_skip import own_database
from tests.external_tools import decide, find_program, program_missing

REPO = Path(__file__).resolve().parents[2]
# One module or test per tool, each as the README's command collects it.
NEEDING_TOOLS = [
    "tests/signing/test_pdfsig.py",  # pdfsig, and certutil for one test
    "tests/signing/test_pkcs11.py",  # SoftHSM2
    "tests/pests/test_mqtt_cli.py::test_simulate_traps_needs_traps_and_a_recent_start",  # Mosquitto
]
HIDDEN = "pdfsig,certutil,softhsm2-util,mosquitto"


def test_decide():
    assert decide(None, {}) == ("run", None)
    assert decide(None, {"CQS_REQUIRE_TOOLS": "1"}) == ("run", None)
    verdict, reason = decide("pdfsig not found: apt-get install poppler-utils", {})
    assert verdict == "skip" and reason.startswith("pdfsig not found") and "CQS_REQUIRE_TOOLS=1" in reason
    verdict, reason = decide("pdfsig not found: apt-get install poppler-utils", {"CQS_REQUIRE_TOOLS": "1"})
    assert verdict == "fail" and reason.startswith("pdfsig not found")
    assert decide("x not found", {"CQS_REQUIRE_TOOLS": "0"})[0] == "skip"  # only "1" turns it on


def test_find_program(tmp_path):
    program = tmp_path / "sbin" / "cqs-tool"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    empty = {"PATH": str(tmp_path / "nothing")}
    assert find_program("cqs-tool", str(program.parent), environ=empty) == str(program)
    hidden = {"CQS_TOOLS_MISSING": "pdfsig, cqs-tool"}
    assert find_program("cqs-tool", str(program.parent), environ=hidden) is None
    assert program_missing("cqs-tool", "cqs-goi", str(program.parent), environ=hidden) == (
        "cqs-tool not found: apt-get install cqs-goi (.ci/run installs it)"
    )
    assert program_missing("cqs-tool", "cqs-goi", str(program.parent), environ=empty) is None


def run_without_tools(**env) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items() if key != "CQS_REQUIRE_TOOLS"}
    if "DATABASE_URL" in environ:
        environ["DATABASE_URL"] = own_database(environ["DATABASE_URL"])
    return subprocess.run(
        [sys.executable, "-m", "pytest", *NEEDING_TOOLS, "-p", "no:cacheprovider"],
        cwd=REPO,
        env={**environ, "CQS_TOOLS_MISSING": HIDDEN, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


REASONS = (
    "pdfsig not found: apt-get install poppler-utils",
    "softhsm2-util not found: apt-get install softhsm2",
    "mosquitto not found: apt-get install mosquitto",
)


@pytest.mark.slow
def test_missing_tools_are_skips_with_their_reasons():
    result = run_without_tools()
    assert result.returncode == 0, result.stdout + result.stderr
    assert " skipped" in result.stdout and "passed" not in result.stdout and "error" not in result.stdout.lower()
    for reason in REASONS:
        assert reason in result.stdout, result.stdout


@pytest.mark.slow
def test_required_tools_turn_every_skip_into_a_failure():
    result = run_without_tools(CQS_REQUIRE_TOOLS="1")
    assert result.returncode != 0, result.stdout
    assert "skipped" not in result.stdout and "passed" not in result.stdout, result.stdout
    for reason in REASONS:
        assert reason in result.stdout, result.stdout
    assert "CQS_REQUIRE_TOOLS=1: these tests must run here" in result.stdout
