"""One rule for the tests that need a program from outside Python: chromium and axe-core (tests/browser),
Mosquitto (tests/pests), pdfsig and certutil (tests/signing/test_pdfsig.py), SoftHSM2
(tests/signing/test_pkcs11.py).

Where the program is missing, the test is skipped and the summary says what is missing and how to get it
(`-rs` is in addopts): a newcomer's first run ends in clear skips, not in errors. With CQS_REQUIRE_TOOLS=1
the same test fails instead: `.ci/run` exports it, so a broken CI install can never pass by skipping.

    require(program_missing("pdfsig", "poppler-utils"))   # in a fixture or a test: skip or fail, or nothing

CQS_TOOLS_MISSING (names separated by commas) makes program_missing treat those programs as absent, so that
tests/core/test_external_tools.py checks each test module's skip and failure without uninstalling anything."""

from __future__ import annotations

import os
import shutil

import pytest

SWITCH = "CQS_REQUIRE_TOOLS"
PRETEND_MISSING = "CQS_TOOLS_MISSING"


def decide(missing: str | None, environ=os.environ) -> tuple[str, str | None]:
    """("run", None) when nothing is missing; else ("skip" | "fail", reason): a skip by default, a failure
    under CQS_REQUIRE_TOOLS=1. Each reason says how to turn the one into the other."""
    if missing is None:
        return "run", None
    if environ.get(SWITCH) == "1":
        return "fail", f"{missing} ({SWITCH}=1: these tests must run here)"
    return "skip", f"{missing}; set {SWITCH}=1 to make this a failure"


def require(missing: str | None) -> None:
    """Skip or fail the running test (or the fixture's tests) when `missing` names what is missing."""
    verdict, reason = decide(missing)
    if verdict == "skip":
        pytest.skip(reason)
    if verdict == "fail":
        pytest.fail(reason, pytrace=False)


def find_program(name: str, *also_in: str, environ=os.environ) -> str | None:
    """The program's path: on PATH, else in `also_in` (e.g. /usr/sbin, where Debian puts daemons and a
    user's PATH may not reach); None when absent or listed in CQS_TOOLS_MISSING."""
    if name in {part.strip() for part in environ.get(PRETEND_MISSING, "").split(",")}:
        return None
    return shutil.which(name) or (shutil.which(name, path=os.pathsep.join(also_in)) if also_in else None)


def program_missing(name: str, package: str, *also_in: str, environ=os.environ) -> str | None:
    """Why `name` cannot run here ("pdfsig not found: apt-get install poppler-utils"), or None."""
    if find_program(name, *also_in, environ=environ):
        return None
    return f"{name} not found: apt-get install {package} (.ci/run installs it)"
