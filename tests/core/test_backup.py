"""`cqs backup` / `cqs restore` (docs/operations.md): a backup taken while
citizens submit dossiers holds every dossier acknowledged before it started,
restores with a verified audit chain and working file links; a damaged
backup or a non-empty target is refused before anything is touched; a file
link whose file is missing is a 404 page, not a 500.

The load test runs real processes on a file database (SQLite, and PostgreSQL
when DATABASE_URL names one): this file is also the writers' and checker's
script (`python tests/core/test_backup.py MODE`)."""

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROCEDURE = "1.001193"
WRITERS = 2


# ---------------------------------------------------------------- helper processes


def _setup():
    """The smallest province that takes online dossiers, and one citizen per writer."""
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind
    from tests.conftest import make_procedure

    admin = accounts.create_officer(
        actor=None, username="qt", password="Mat-khau-2025", full_name="Quản trị", global_role=GlobalRole.PROVINCE_ADMIN
    )
    commune = org.create_agency(
        actor=admin,
        name="UBND xã Kiến An",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        electronic_code="000.07.01.H01",
        code="xa-kien-an",
    )
    make_procedure(admin, [commune], code=PROCEDURE)
    for n in range(WRITERS):
        accounts.create_citizen(identity_number=f"08901234567{n}", full_name="Nguyễn Thị Hoà", password="Cong-dan-2025")


def _write(n: int, stop: Path):
    """Submit dossiers, each with an uploaded PDF, until `stop` exists; print each one once acknowledged."""
    from chinhquyenso.accounts.models import User
    from chinhquyenso.core.uploads import store_upload
    from chinhquyenso.dossiers import services as dossiers

    citizen = User.objects.get(identity_number=f"08901234567{n}")
    while not stop.exists():
        stored = store_upload(b"%PDF-1.4\n" + os.urandom(2048), original_name="to-khai.pdf", user=citizen)
        dossier = dossiers.submit(
            actor=citizen,
            procedure_code=PROCEDURE,
            channel="online",
            components=[{"order": 1, "file_id": stored.sha256}, {"order": 2, "on_paper": True}],
            verify_identity=False,
        )
        print(dossier.code, stored.sha256, flush=True)  # committed: the citizen has the receipt


def _check(acknowledged: Path):
    """Every acknowledged dossier and its file link, as its applicant sees it; then the same link with
    the files folder gone."""
    import shutil

    from django.conf import settings
    from django.test import Client

    from chinhquyenso.dossiers.models import Dossier

    expected = dict(line.split() for line in acknowledged.read_text().splitlines())
    found = {d.code: d for d in Dossier.objects.filter(code__in=expected).select_related("applicant")}
    client, links = Client(), {}
    for code in sorted(found)[:: max(len(found) // 10, 1)]:
        client.force_login(found[code].applicant)
        response = client.get(f"/tep/{expected[code]}/")
        links[code] = response.status_code == 200 and hashlib.sha256(response.getvalue()).hexdigest() == expected[code]
    shutil.rmtree(settings.MEDIA_ROOT)
    missing = client.get(f"/tep/{expected[code]}/")
    print(
        json.dumps(
            {
                "missing_dossiers": sorted(set(expected) - set(found)),
                "links_checked": len(links),
                "broken_links": [code for code, ok in links.items() if not ok],
                "without_files": [missing.status_code, "Không tìm thấy" in missing.content.decode()],
            }
        )
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    mode = sys.argv[1]
    if mode == "setup":
        _setup()
    elif mode == "write":
        _write(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        _check(Path(sys.argv[2]))
    sys.exit(0)


# ---------------------------------------------------------------- tests


def _env(data_dir: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CQS_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        CQS_DATA_DIR=str(data_dir),
        CQS_SITE_URL="https://dvc.example.gov.vn",
        DJANGO_SETTINGS_MODULE="chinhquyenso.settings",
        PYTHONPATH=str(ROOT),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, **kwargs)


def _cqs(*args, env) -> subprocess.CompletedProcess:
    return _run(["-m", "chinhquyenso.cli", *args], env)


def _fresh_postgres(name: str) -> str:
    import psycopg

    base = os.environ["DATABASE_URL"]
    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name


def _databases(backend: str) -> tuple[str | None, str | None]:
    if backend == "sqlite":
        return None, None
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("DATABASE_URL is not PostgreSQL")
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    return _fresh_postgres(f"{base}_bk_src"), _fresh_postgres(f"{base}_bk_dst")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_backup_under_load_restores_every_acknowledged_dossier(tmp_path, backend):
    source_db, target_db = _databases(backend)
    source = _env(tmp_path / "source", source_db)
    assert _cqs("migrate", "-v0", env=source).returncode == 0
    setup = _run([__file__, "setup"], source)
    assert setup.returncode == 0, setup.stderr
    # A signed checkpoint: the restore must bring back its key and file, and the chain must match it.
    assert _cqs("audit", "checkpoint", env=source).returncode == 0

    stop, acknowledged, lock = tmp_path / "stop", [], threading.Lock()
    writers = [
        subprocess.Popen(
            [sys.executable, __file__, "write", str(n), str(stop)],
            env=source,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]

    def collect(writer):
        for line in writer.stdout:
            with lock:
                acknowledged.append(line)

    readers = [threading.Thread(target=collect, args=(w,)) for w in writers]
    for reader in readers:
        reader.start()
    try:
        while len(acknowledged) < 20:
            assert all(w.poll() is None for w in writers), [w.stderr.read() for w in writers]
            time.sleep(0.1)
        with lock:
            before = list(acknowledged)  # acknowledged before the backup started: each must be restored
        started = time.monotonic()
        backup = _cqs("backup", str(tmp_path / "backup"), env=source)
        backup_seconds = time.monotonic() - started
        assert backup.returncode == 0, backup.stderr
        during = len(acknowledged) - len(before)
        time.sleep(0.5)
    finally:
        stop.touch()
        for writer in writers:
            writer.wait(timeout=60)
        for reader in readers:
            reader.join()
    assert all(w.returncode == 0 for w in writers), [w.stderr.read() for w in writers]
    assert during > 0, "no dossier was submitted while the backup ran"

    target = _env(tmp_path / "target", target_db)
    started = time.monotonic()
    restore = _cqs("restore", str(tmp_path / "backup"), env=target)
    restore_seconds = time.monotonic() - started
    assert restore.returncode == 0, restore.stderr
    assert "Chuỗi kiểm toán toàn vẹn" in restore.stdout and "điểm mốc có chữ ký xác nhận" in restore.stdout
    for key in ("secret.key", "audit.key"):
        assert (tmp_path / "source" / key).read_bytes() == (tmp_path / "target" / key).read_bytes()

    (tmp_path / "acknowledged.txt").write_text("".join(before))
    check = _run([__file__, "check", str(tmp_path / "acknowledged.txt")], target)
    assert check.returncode == 0, check.stderr
    result = json.loads(check.stdout.splitlines()[-1])
    assert result["missing_dossiers"] == []
    assert result["links_checked"] >= 10 and result["broken_links"] == []
    assert result["without_files"] == [404, True]  # a restore without files/: a 404 page, not a 500
    print(
        f"\n{backend}: {len(before)} acknowledged before the backup, {during} during it ({backup_seconds:.1f} s), "
        f"all restored in {restore_seconds:.1f} s"
    )


def test_a_damaged_backup_or_a_used_target_is_refused_before_anything_changes(tmp_path):
    source = _env(tmp_path / "source", None)
    assert _cqs("migrate", "-v0", env=source).returncode == 0
    (tmp_path / "source" / "files").mkdir()
    (tmp_path / "source" / "files" / "a.pdf").write_bytes(b"%PDF-1.4 a")
    assert _cqs("backup", str(tmp_path / "backup"), env=source).returncode == 0
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    # The bus's key is made on first use: a fresh installation has none yet, only its (empty) folders.
    assert set(manifest["parts"]) == {
        "database.sqlite3",
        "audit-checkpoints.tar",
        "bus-log-seals.tar",
        "files.tar",
        "bus-log-archive.tar",
        "secret.key",
    }
    assert manifest["versions"]["chinhquyenso"] and manifest["audit_head"]["seq"] >= 0

    # The running installation is not empty: no overwrite without --force.
    again = _cqs("restore", str(tmp_path / "backup"), env=source)
    assert again.returncode != 0 and "--force" in again.stderr

    # One changed byte in any part: refused, and the target keeps what it had.
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    (target_dir / "files").mkdir()
    with (tmp_path / "backup" / "files.tar").open("r+b") as archive:
        archive.seek(600)
        archive.write(b"X")
    damaged = _cqs("restore", "--force", str(tmp_path / "backup"), env=_env(target_dir, None))
    assert damaged.returncode != 0 and "files.tar" in damaged.stderr and "SHA-256" in damaged.stderr
    assert not (target_dir / "cqs.sqlite3").exists() or (target_dir / "cqs.sqlite3").stat().st_size == 0
    assert list((target_dir / "files").iterdir()) == []


@pytest.mark.django_db
def test_a_file_missing_from_the_disk_is_a_404_page(client, citizen, settings):
    from chinhquyenso.core.uploads import store_upload

    stored = store_upload(b"%PDF-1.4 to khai", original_name="to-khai.pdf", user=citizen)
    client.force_login(citizen)
    assert client.get(f"/tep/{stored.sha256}/").status_code == 200
    Path(stored.file.path).unlink()  # a restore without files/
    response = client.get(f"/tep/{stored.sha256}/")
    assert response.status_code == 404
    assert "Không tìm thấy" in response.content.decode()
