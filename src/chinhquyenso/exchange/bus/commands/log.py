"""`cqs bus log search | verify | seal | archive`: the message log from the command line.

Search prints the entries' metadata only, never their bodies (which may hold personal data):
bodies are read on the auditors' page, each reading audited."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import CommandError
from django.utils import timezone

from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange.bus import log as message_log
from chinhquyenso.exchange.models import BusLogEntry

MAX_LIMIT = 10_000


def add(actions) -> None:
    parser = actions.add_parser(
        "log",
        help="Nhật ký thông điệp: tìm (search), kiểm tra toàn vẹn (verify), niêm phong (seal), lưu trữ (archive).",
    )
    steps = parser.add_subparsers(
        dest="log_action", metavar="{search,verify,seal,archive}", required=True, help="Việc cần làm với nhật ký:"
    )
    search = steps.add_parser("search", help="Tìm lời gọi trong nhật ký (không in nội dung thông điệp).")
    search.add_argument("--service", default="", metavar="DỊCH_VỤ", help="Mã định danh dịch vụ (đầy đủ).")
    search.add_argument("--client", default="", metavar="HỆ_THỐNG", help="Mã định danh hệ thống gọi (đầy đủ).")
    search.add_argument("--correlation", default="", metavar="MÃ", help="Mã hồ sơ (hoặc việc) liên quan.")
    search.add_argument(
        "--outcome",
        default="",
        choices=BusLogEntry.Outcome.values,
        metavar="KẾT_QUẢ",
        help="Kết quả: " + ", ".join(f"{value} ({label})" for value, label in BusLogEntry.Outcome.choices) + ".",
    )
    search.add_argument(
        "--from", dest="start", default="", metavar="NGÀY", help="Từ ngày (YYYY-MM-DD), mặc định hôm nay."
    )
    search.add_argument(
        "--to",
        dest="end",
        default="",
        metavar="NGÀY",
        help="Đến ngày (YYYY-MM-DD, tính cả ngày này), mặc định hôm nay.",
    )
    search.add_argument(
        "--limit", default="100", metavar="SỐ", help=f"Số bản ghi in ra tối đa (1–{MAX_LIMIT}), mặc định 100."
    )
    search.add_argument("--json", action="store_true", help="In kết quả dạng JSON.")
    steps.add_parser("verify", help="Kiểm tra niêm phong, tệp lưu trữ và chuỗi mã băm; báo bản ghi hỏng đầu tiên.")
    steps.add_parser("seal", help="Ký niêm phong các bản ghi mới ngay (việc định kỳ làm mỗi phút).")
    archive = steps.add_parser("archive", help="Chuyển các bản ghi đã niêm phong trước một ngày ra tệp lưu trữ.")
    archive.add_argument("--before", required=True, metavar="NGÀY", help="Lưu trữ bản ghi trước ngày này (YYYY-MM-DD).")


def run(command, options) -> None:
    action = options["log_action"]
    try:
        {"search": _search, "verify": _verify, "seal": _seal, "archive": _archive}[action](command, options)
    except DomainError as error:
        raise CommandError(error.message) from None


def _search(command, options) -> None:
    today = timezone.localdate()
    start = params.date(options["start"], "--from", default=today)
    end = params.date(options["end"], "--to", default=today)
    if end < start:
        raise CommandError("Ngày --to phải từ ngày --from trở đi.")
    limit = params.integer(options["limit"], "--limit", minimum=1, maximum=MAX_LIMIT)
    entries = list(
        message_log.query(
            service=options["service"].strip(),
            client=options["client"].strip(),
            correlation=options["correlation"].strip(),
            outcome=options["outcome"],
            start=start,
            end=end,
        )[:limit]
    )
    if options["json"]:
        command.stdout.write(json.dumps([_row(e) for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        command.stdout.write(f"Không có lời gọi nào từ {start:%d/%m/%Y} đến {end:%d/%m/%Y} khớp điều kiện.")
        return
    for e in entries:
        status = e.status if e.status is not None else "—"
        command.stdout.write(
            f"#{e.seq}  {timezone.localtime(e.at):%d/%m/%Y %H:%M:%S}  {e.client} → {e.service}"
            f"{' ' + e.operation if e.operation else ''}  {status}  {e.get_outcome_display()}"
            f"{' (' + e.error_code + ')' if e.error_code else ''}  {_ms(e.duration_ms)} ms"
            f"{'  hồ sơ ' + e.correlation if e.correlation else ''}"
        )
    more = " (còn nữa: tăng --limit hoặc thu hẹp điều kiện)" if len(entries) == limit else ""
    command.stdout.write(f"{len(entries)} lời gọi{more}.")


def _ms(value: float) -> str:
    return f"{value:,.1f}".replace(",", " ").replace(".", ",")


def _row(e: BusLogEntry) -> dict:
    return {
        "seq": e.seq,
        "at": e.at.astimezone(dt.UTC).isoformat(),
        "message_id": e.message_id,
        "client": e.client,
        "service": e.service,
        "operation": e.operation,
        "method": e.method,
        "status": e.status,
        "outcome": e.outcome,
        "error_code": e.error_code,
        "duration_ms": e.duration_ms,
        "asynchronous": e.asynchronous,
        "correlation": e.correlation,
        "request_hash": e.request_hash,
        "response_hash": e.response_hash,
    }


def _verify(command, options) -> None:
    result = message_log.verify()
    if not result.ok:
        raise CommandError(result.message)
    command.stdout.write(command.style.SUCCESS(result.message))
    for warning in result.warnings:
        command.stdout.write(command.style.WARNING(warning))


def _seal(command, options) -> None:
    written = message_log.seal()
    if not written:
        command.stdout.write("Không có bản ghi mới kể từ niêm phong trước; không ký thêm.")
        return
    command.stdout.write(
        command.style.SUCCESS(
            f"Đã ký {len(written)} niêm phong, tới bản ghi số {written[-1].last_seq}, "
            f"vào {message_log.seal_directory()}."
        )
    )


def _archive(command, options) -> None:
    before = params.date(options["before"], "--before")
    if before > timezone.localdate():
        raise CommandError("Ngày --before không được sau hôm nay.")
    made = message_log.archive(before)
    if not made:
        command.stdout.write(f"Không có bản ghi đã niêm phong nào trước {before:%d/%m/%Y} để lưu trữ.")
        return
    entries = sum(a.entries for a in made)
    command.stdout.write(
        command.style.SUCCESS(
            f"Đã lưu trữ {entries} bản ghi (số {made[0].first_seq} đến {made[-1].last_seq}) vào {len(made)} tệp "
            f"trong {message_log.archive_directory()}."
        )
    )
