"""The browser tests without chromium or axe-core: a visible skip on a developer's machine, a failure
in CI (CQS_REQUIRE_TOOLS=1, exported by .ci/run) — never ten setup errors, never a silent pass."""

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from tests.browser.conftest import browser_decision

REPO = Path(__file__).resolve().parents[2]
SMOKE = "tests/browser/test_smoke.py"


def own_database(url: str) -> str:
    """The database of a pytest run inside this one: on PostgreSQL a name of its own, so its test database
    (test_<name>) is never this run's, which it would otherwise try to drop while this run is connected."""
    if not url.startswith(("postgres://", "postgresql://")):
        return url
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_inner"))


def run_smoke(**env) -> subprocess.CompletedProcess:
    """The browser smoke test in a pytest of its own, as the README's command would run it."""
    environ = {key: value for key, value in os.environ.items() if key != "CQS_REQUIRE_TOOLS"}
    if "DATABASE_URL" in environ:
        environ["DATABASE_URL"] = own_database(environ["DATABASE_URL"])
    return subprocess.run(
        [sys.executable, "-m", "pytest", SMOKE, "-p", "no:cacheprovider"],
        cwd=REPO,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_missing_chromium_is_a_skip_with_its_reason_in_the_summary():
    result = run_smoke(CQS_CHROMIUM="/nonexistent")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout and "error" not in result.stdout.lower(), result.stdout
    # -rs (addopts): the summary names what is missing and how to get it.
    assert "SKIPPED [1]" in result.stdout and "chromium not found at /nonexistent" in result.stdout, result.stdout


@pytest.mark.slow
def test_required_browser_turns_the_skip_into_a_failure():
    result = run_smoke(CQS_CHROMIUM="/nonexistent", CQS_REQUIRE_TOOLS="1")
    assert result.returncode != 0, result.stdout
    assert "skipped" not in result.stdout, result.stdout
    assert "chromium not found at /nonexistent" in result.stdout
    assert "CQS_REQUIRE_TOOLS=1" in result.stdout


def test_decision(tmp_path):
    axe = tmp_path / "axe.min.js"
    axe.write_text("/* axe */")
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)

    assert browser_decision({"CQS_CHROMIUM": str(chromium)}, axe) == ("run", None)
    assert browser_decision({"CQS_CHROMIUM": str(chromium), "CQS_REQUIRE_TOOLS": "1"}, axe) == ("run", None)

    decision, reason = browser_decision({"CQS_CHROMIUM": "/nonexistent"}, axe)
    assert decision == "skip" and reason.startswith("chromium not found at /nonexistent")
    assert "CQS_REQUIRE_TOOLS=1" in reason  # the skip says how CI makes it a failure

    # node_modules/axe-core missing (no `npm ci`) behaves the same way.
    missing_axe = tmp_path / "node_modules" / "axe-core" / "axe.min.js"
    decision, reason = browser_decision({"CQS_CHROMIUM": str(chromium)}, missing_axe)
    assert decision == "skip" and reason.startswith(f"axe-core not found at {missing_axe}")
    assert "npm ci" in reason
    decision, _ = browser_decision({"CQS_CHROMIUM": str(chromium), "CQS_REQUIRE_TOOLS": "1"}, missing_axe)
    assert decision == "fail"

    # A file that is not executable is no chromium either.
    chromium.chmod(0o644)
    assert browser_decision({"CQS_CHROMIUM": str(chromium)}, axe)[0] == "skip"


def test_an_inner_run_on_postgresql_gets_a_database_of_its_own():
    assert (
        own_database("postgres://postgres@127.0.0.1:5432/cqs_ci_1")
        == "postgres://postgres@127.0.0.1:5432/cqs_ci_1_inner"
    )
    assert own_database("sqlite:///var/db.sqlite3") == "sqlite:///var/db.sqlite3"
