"""`cqs backup DEST` / `cqs restore SRC`: the database, the uploaded files and
the keys as one verified set (docs/operations.md, "Sao lưu và khôi phục").

A backup is a directory: `manifest.json` (time, versions, the audit chain's
head, SHA-256 and size of every part) and the parts — the database
(`database.sqlite3` from SQLite's online backup API, or `database.pgdump`
from `pg_dump -Fc`), each data folder as a tar archive, each key file as is.
It is written under a temporary name and renamed when complete, so a
directory named DEST is always a whole backup.

Both database snapshots are consistent while the application writes: SQLite's
backup API copies the pages of one read transaction (copying the file misses
what still sits in the `-wal` file), pg_dump reads one snapshot. The database
is copied before the files: a file is written before the row that names it and
never deleted, so every file the copied database names is on disk by then. The
audit checkpoints are copied before the database: a checkpoint is appended
after the records it signs commit, so each copied one signs records the copied
database holds (a later one would read as records deleted).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditHead, AuditRecord

FORMAT = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Location:
    """A folder or key file that belongs to an installation's data."""

    name: str  # the part's name in the backup
    path: Path
    folder: bool
    before_database: bool = False  # copied before the database snapshot (see the module's docstring)
    evidence: bool = False  # on restore the old content is set aside, never deleted


def locations() -> list[Location]:
    """Everything besides the database that a restore needs: uploaded files, the
    audit checkpoints, the bus's seals and archive, and the keys (without secret.key, sessions and
    signed links of the old installation stop working; without audit.key no checkpoint verifies,
    without bus.key other systems no longer recognise this installation's calls)."""
    found = [
        Location(
            "audit-checkpoints.tar",
            Path(settings.AUDIT_CHECKPOINT_DIR),
            folder=True,
            before_database=True,
            evidence=True,
        ),
        # The data bus's message-log seals, like the audit checkpoints, before the database; its archive
        # after it (an archive run in between then leaves entries in both, never in neither).
        Location(
            "bus-log-seals.tar", Path(settings.BUS_LOG_SEAL_DIR), folder=True, before_database=True, evidence=True
        ),
        Location("files.tar", Path(settings.MEDIA_ROOT), folder=True),
        Location("bus-log-archive.tar", Path(settings.BUS_LOG_ARCHIVE_DIR), folder=True, evidence=True),
        # The bus's key signs its outgoing calls, seals and registry documents (exchange.bus.keys).
        Location("bus.key", Path(settings.BUS_KEY_FILE), folder=False),
        Location("bus.crt", Path(settings.BUS_CERT_FILE), folder=False),
    ]
    # Keys given in the environment are kept by the operator, off the server (docs/operations.md).
    if not os.environ.get("CQS_SECRET_KEY"):
        found.append(Location("secret.key", settings.DATA_DIR / "secret.key", folder=False))
    if not settings.AUDIT_KEY:
        found.append(Location("audit.key", Path(settings.AUDIT_KEY_FILE), folder=False))
    return found


def _copy_out(location: Location, work: Path) -> Path | None:
    part = work / location.name
    if location.folder:
        _tar_folder(location.path, part)
    elif location.path.exists():
        shutil.copy2(location.path, part)
    else:
        return None
    return part


def _engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env() -> dict:
    """libpq's variables for pg_dump/pg_restore: the password never appears in a process list."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    env["PGCONNECT_TIMEOUT"] = str(db.get("OPTIONS", {}).get("connect_timeout", 5))
    return env


def _run(command: list[str]) -> None:
    result = subprocess.run(command, env=_pg_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise DomainError(f"{command[0]} thất bại: {result.stderr.strip()[-500:]}", "database")


def _dump_database(target: Path) -> None:
    if _engine() == "postgresql":
        _run(["pg_dump", "--format=custom", f"--file={target}", f"--dbname={settings.DATABASES['default']['NAME']}"])
        return
    source = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one read transaction, writers go on (WAL)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise DomainError("Bản sao cơ sở dữ liệu không toàn vẹn (integrity_check).", "database")
    finally:
        copy.close()
        source.close()


def _tar_folder(folder: Path, target: Path) -> None:
    with tarfile.open(target, "w") as archive:
        if folder.is_dir():
            for child in sorted(folder.iterdir()):
                archive.add(child, arcname=child.name)


def backup(dest: Path) -> dict:
    """Write a complete backup to `dest` (a directory that must not exist yet); return the manifest."""
    dest = Path(dest).resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DomainError(f"{dest} đã có; hãy chọn một thư mục mới cho bản sao lưu.", "DEST")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))  # 0700: it holds keys
    started = time.monotonic()
    try:
        # Read before the snapshot: every record up to this one must be in it, which restore checks.
        head = AuditHead.objects.filter(id=1).values("seq", "hash").first() or {"seq": 0, "hash": audit.GENESIS}
        early = [_copy_out(location, work) for location in locations() if location.before_database]
        database = work / ("database.pgdump" if _engine() == "postgresql" else "database.sqlite3")
        _dump_database(database)
        late = [_copy_out(location, work) for location in locations() if not location.before_database]
        parts = [database, *(part for part in early + late if part)]
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "engine": _engine(),
            "versions": {
                "chinhquyenso": metadata.version("chinhquyenso"),
                "django": django.get_version(),
                "python": platform.python_version(),
                "database": connection.pg_version if _engine() == "postgresql" else sqlite3.sqlite_version,
            },
            "keys_in_environment": [
                name
                for name, given in (
                    ("CQS_SECRET_KEY", os.environ.get("CQS_SECRET_KEY")),
                    ("CQS_AUDIT_KEY", settings.AUDIT_KEY),
                )
                if given
            ],
            "audit_head": head,
            "parts": {p.name: {"sha256": _sha256(p), "size": p.stat().st_size} for p in parts},
            "seconds": round(time.monotonic() - started, 2),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        if dest.exists():
            dest.rmdir()  # the empty directory the operator made
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def read_manifest(src: Path) -> dict:
    """The manifest, once every part it lists is present with its size and SHA-256 —
    checked before a restore touches anything."""
    src = Path(src)
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError):
        raise DomainError(f"{src} không phải bản sao lưu (thiếu hoặc hỏng {MANIFEST}).", "SRC") from None
    if manifest.get("format") != FORMAT:
        raise DomainError(f"Bản sao lưu định dạng {manifest.get('format')} chưa được hỗ trợ.", "SRC")
    for name, expected in manifest["parts"].items():
        part = src / name
        if not part.is_file() or part.stat().st_size != expected["size"] or _sha256(part) != expected["sha256"]:
            raise DomainError(f"Phần {name} của bản sao lưu bị thiếu hoặc đã bị thay đổi (sai SHA-256).", "SRC")
    if manifest["engine"] != _engine():
        raise DomainError(
            f"Bản sao lưu là của {manifest['engine']}, nhưng DATABASE_URL trỏ tới {_engine()}.", "DATABASE_URL"
        )
    return manifest


def target_in_use() -> list[str]:
    """What a restore would overwrite: a database with tables, a folder or key file with content."""
    used = []
    if connection.introspection.table_names():
        used.append("cơ sở dữ liệu")
    for location in locations():
        if location.folder and location.path.is_dir() and any(location.path.iterdir()):
            used.append(str(location.path))
    return used


def _restore_database(part: Path) -> None:
    connections.close_all()
    if part.suffix == ".pgdump":
        # One transaction: a restore that fails leaves the database as it was.
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                f"--dbname={settings.DATABASES['default']['NAME']}",
                str(part),
            ]
        )
        return
    source = sqlite3.connect(part)
    target = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=60)
    try:
        source.backup(target)  # page by page into the live file (and its -wal), never a half-copied file
    finally:
        target.close()
        source.close()


def _replace_folder(archive: Path, folder: Path, *, keep_old: bool) -> Path | None:
    """Unpack beside the folder, then swap: the folder is whole, old or new. The old
    content is deleted, or with `keep_old` set aside under a dated name (returned)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.restore.", dir=folder.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(fresh, filter="data")  # no absolute paths, links out or devices
        fresh.chmod(0o755)
        if not folder.exists() or not any(folder.iterdir()):
            shutil.rmtree(folder, ignore_errors=True)
            fresh.rename(folder)
            return None
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        old = folder.with_name(
            f"{folder.name}.truoc-khoi-phuc-{stamp}" if keep_old else f".{folder.name}.old.{os.getpid()}"
        )
        folder.rename(old)
        fresh.rename(folder)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    if keep_old:
        return old
    shutil.rmtree(old)
    return None


def _replace_file(part: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.restore")
    shutil.copyfile(part, fresh)
    fresh.chmod(0o600)
    fresh.replace(path)


def restore(src: Path, *, force: bool = False, log=print) -> dict:
    """Check the backup, refuse to overwrite data unless `force`, put back the
    database, folders and keys, migrate, rebuild the derived facts and verify
    the audit chain up to the head recorded at backup time."""
    src = Path(src)
    manifest = read_manifest(src)
    used = target_in_use()
    if used and not force:
        raise DomainError(
            f"Nơi khôi phục đang có dữ liệu ({', '.join(used)}); thêm --force để ghi đè.",
            "--force",
        )
    started = time.monotonic()
    database = next(name for name in manifest["parts"] if name.startswith("database."))
    _restore_database(src / database)
    log(f"Đã khôi phục cơ sở dữ liệu ({database}).")
    for location in locations():
        part = src / location.name
        if location.name not in manifest["parts"]:
            continue
        if location.folder:
            try:
                kept = _replace_folder(part, location.path, keep_old=location.evidence)
            except OSError:
                if not location.evidence:
                    raise
                # Checkpoints on write-once or another machine's storage stay as they are; verify compares.
                log(f"Không thay được {location.path} (chỉ ghi thêm?): giữ nguyên các điểm mốc đang có.")
                continue
            if kept:
                log(f"Nội dung cũ của {location.path} được giữ lại ở {kept} (bằng chứng kiểm toán).")
        else:
            _replace_file(part, location.path)
        log(f"Đã khôi phục {location.path}.")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("rebuild_facts")
    verification = audit.verify()
    if not verification.ok:
        raise DomainError(
            f"Đã khôi phục dữ liệu, nhưng chuỗi kiểm toán không toàn vẹn: {verification.message}", "audit"
        )
    head = manifest["audit_head"]
    if head["seq"] and not AuditRecord.objects.filter(seq=head["seq"], hash=head["hash"]).exists():
        raise DomainError(
            f"Bản khôi phục thiếu bản ghi kiểm toán số {head['seq']} đã có lúc sao lưu: bản sao lưu không đầy đủ.",
            "audit",
        )
    for line in (verification.message, *verification.warnings):
        log(line)
    return {"seconds": round(time.monotonic() - started, 2), "audit": verification.message}
