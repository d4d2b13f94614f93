"""`cqs pests …`: crop-pest surveillance from the command line (docs/pests.md).

    cqs pests load-catalog [--json]
    cqs pests listen [--url mqtt://127.0.0.1:1883]
    cqs pests simulate-traps --devices N --nights D [--url …] [--start YYYY-MM-DD] [--seed S] [--create-stations]
    cqs pests import-traps TỆP [--json]
    cqs pests issue-credentials MÃ_TRẠM
    cqs pests export-labels THƯ_MỤC [--user TÊN_ĐĂNG_NHẬP]

Subcommands are argparse subparsers, each with a `handle_<name>` method that imports the module doing
the work when it runs. The command runs as the operator (the audit trail names no officer) unless a
subcommand takes --user."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number

_JSON_HELP = "In kết quả dạng JSON (cho máy đọc) thay vì câu tiếng Việt."


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"Ngày “{text}” không đúng dạng YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Giám sát sinh vật gây hại cây trồng: nạp danh mục, nhận tin nhắn của bẫy đèn thông minh qua MQTT, "
        "mô phỏng bẫy, nhập sổ theo dõi bẫy đèn, cấp mã bí mật cho bẫy, xuất bộ ảnh đã xác nhận (load-catalog, "
        "listen, simulate-traps, import-traps, issue-credentials, export-labels)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="action",
            metavar="{load-catalog,listen,simulate-traps,import-traps,issue-credentials,export-labels}",
            required=True,
            help="Việc cần làm:",
        )
        load = actions.add_parser(
            "load-catalog",
            help="Nạp danh mục sinh vật gây hại, lớp bẫy đèn, ngưỡng và vụ sản xuất đi kèm phần mềm.",
            description="Chỉ thêm mục còn thiếu (so theo mã); mục Chi cục đã sửa trong trang quản trị được giữ nguyên.",
        )
        load.add_argument("--json", action="store_true", dest="as_json", help=_JSON_HELP)
        listen = actions.add_parser(
            "listen",
            help="Nhận tin nhắn của bẫy đèn thông minh từ máy chủ MQTT và lưu lại (chạy đến khi bị dừng).",
            description="Đăng ký chủ đề cqs/pests/traps/+/counts (QoS 1, phiên bền vững, xác nhận sau khi lưu); "
            "tự kết nối lại khi mất kết nối. Dừng bằng SIGTERM hoặc Ctrl+C.",
        )
        listen.add_argument(
            "--url",
            default=None,
            help="Địa chỉ máy chủ MQTT (mặc định theo CQS_PESTS_MQTT_URL), ví dụ mqtt://127.0.0.1:1883.",
        )
        simulate = actions.add_parser(
            "simulate-traps",
            help="Mô phỏng bẫy đèn thông minh: gửi số liệu từng đêm (có chữ ký) lên máy chủ MQTT.",
            description="Mỗi bẫy một tin nhắn mỗi đêm, số lượng theo tuổi lúa (rầy nâu cao điểm khoảng 20–25 ngày "
            "sau sạ) với dao động ngẫu nhiên. Dùng các bẫy thông minh đã có mã bí mật; --create-stations tạo thêm bẫy "
            "mô phỏng khi thiếu. Cần `cqs pests listen` chạy để số liệu được lưu.",
        )
        simulate.add_argument("--devices", type=int, required=True, help="Số bẫy.")
        simulate.add_argument("--nights", type=int, required=True, help="Số đêm (đêm cuối là đêm qua).")
        simulate.add_argument("--url", default=None, help="Địa chỉ máy chủ MQTT (mặc định theo CQS_PESTS_MQTT_URL).")
        simulate.add_argument(
            "--start", default=None, help="Đêm đầu tiên, YYYY-MM-DD (mặc định: để đêm cuối là đêm qua)."
        )
        simulate.add_argument("--seed", type=int, default=1, help="Hạt giống ngẫu nhiên (mặc định 1).")
        simulate.add_argument(
            "--create-stations", action="store_true", help="Tạo bẫy mô phỏng (có mã bí mật) khi chưa đủ số bẫy."
        )
        simulate.add_argument("--json", action="store_true", dest="as_json", help=_JSON_HELP)
        imports = actions.add_parser(
            "import-traps",
            help="Nhập sổ theo dõi bẫy đèn (CSV: mã trạm, ngày (đêm bẫy), mã lớp, số lượng); nhập lại không tính trùng.",
            description="Cả tệp hoặc không gì cả: có dòng lỗi thì không nhập dòng nào và in số dòng, lý do. Mỗi trạm, "
            "mỗi đêm một tin nhắn (mã csv:<trạm>:<ngày>). Mã thoát 1 khi có lỗi.",
        )
        imports.add_argument(
            "file", help="Tệp CSV (UTF-8 hoặc Windows-1258; phân cách bằng dấu phẩy, chấm phẩy hoặc tab)."
        )
        imports.add_argument("--json", action="store_true", dest="as_json", help=_JSON_HELP)
        credentials = actions.add_parser(
            "issue-credentials",
            help="Cấp (hoặc cấp lại) mã bí mật cho một bẫy đèn thông minh; mã cũ hết hiệu lực ngay.",
            description="In mã thiết bị và mã bí mật một lần duy nhất: nạp vào bẫy, không lưu ở nơi khác.",
        )
        credentials.add_argument("station", metavar="MÃ_TRẠM", help="Mã trạm của bẫy đèn thông minh.")
        export = actions.add_parser(
            "export-labels",
            help="Xuất bộ ảnh đã được chuyên gia xác nhận theo cấu trúc thư mục phân loại ảnh "
            "(<thư mục>/<mã lớp>/<sha256>.<đuôi>, labels.csv, README.md) để huấn luyện mô hình mới.",
        )
        export.add_argument("directory", metavar="THƯ_MỤC", help="Thư mục đích (chưa có hoặc rỗng).")
        export.add_argument(
            "--user",
            default=None,
            help="Tên đăng nhập của người xuất (ghi vào nhật ký kiểm toán); bỏ trống: hệ thống.",
        )

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "handle_" + action.replace("-", "_"))(**options)
        except DomainError as error:
            raise CommandError(error.message) from None

    # ------------------------------------------------------------ load-catalog

    def handle_load_catalog(self, *, as_json=False, **options):
        from chinhquyenso.pests.services.catalog import load_catalog

        added = load_catalog(actor=None)
        if as_json:
            self.stdout.write(json.dumps(added))
            return
        self.stdout.write(
            f"Đã thêm {added['organisms']} sinh vật, {added['trap_classes']} lớp bẫy đèn, {added['thresholds']} ngưỡng, "
            f"{added['crops']} cây trồng, {added['seasons']} vụ (mục đã có được giữ nguyên)."
        )

    # ------------------------------------------------------------ listen

    def handle_listen(self, *, url=None, **options):
        from chinhquyenso.pests.mqtt import Subscriber

        stop = threading.Event()
        previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)}
        subscriber = Subscriber(url, evaluate_alerts=True)
        self.stdout.write(
            f"Đang nhận tin nhắn của bẫy đèn từ {subscriber.broker.host}:{subscriber.broker.port} "
            f"(mã kết nối {subscriber.client_id}); dừng bằng Ctrl+C."
        )
        try:
            subscriber.run(stop=stop)
        finally:
            subscriber.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        stats = subscriber.stats
        self.stdout.write(
            f"Đã dừng. Nhận {stats['received']} tin nhắn: ghi nhận {stats['accepted']}, trùng {stats['duplicate']}, "
            f"nghi ngờ {stats['flagged']}, bị từ chối {stats['rejected']}, lỗi {stats['errors']}."
        )

    # ------------------------------------------------------------ simulate-traps

    def handle_simulate_traps(
        self, *, devices, nights, url=None, start=None, seed=1, create_stations=False, as_json=False, **options
    ):
        from chinhquyenso.pests.simulate import simulate_traps

        try:
            result = simulate_traps(
                devices,
                nights,
                url=url or settings.CQS["PESTS_MQTT_URL"],
                start=_date(start) if start else None,
                seed=seed,
                create_stations=create_stations,
            )
        except (ConnectionError, OSError, TimeoutError) as error:
            raise CommandError(f"Không gửi được lên máy chủ MQTT: {error}") from None
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(
            f"Đã gửi {format_number(result['messages'])} tin nhắn của {result['devices']} bẫy "
            f"({result['first_night']} đến {result['last_night']}); tạo mới {result['created_stations']} bẫy."
        )

    # ------------------------------------------------------------ import-traps

    def handle_import_traps(self, *, file, as_json=False, **options):
        from chinhquyenso.pests.services.ingest import import_csv

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Không tìm thấy tệp {file}.")
        result = import_csv(path, actor=None)
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        elif result["imported"]:
            self.stdout.write(
                f"Đã đọc {format_number(result['rows'])} dòng: {format_number(result['messages'])} đêm bẫy mới, "
                f"{format_number(result['counts'])} số liệu; {format_number(result['duplicates'])} đêm đã nhập trước "
                f"đây, bỏ qua; {format_number(result['flagged'])} đêm nghi ngờ, chờ kiểm tra."
            )
        else:
            self.stderr.write(f"Không nhập dòng nào: {format_number(result['error_count'])} dòng lỗi.")
            for error in result["errors"]:
                self.stderr.write(f"Dòng {error['row']}: {error['message']}")
        if not result["imported"]:
            sys.exit(1)

    # ------------------------------------------------------------ issue-credentials

    def handle_issue_credentials(self, *, station, **options):
        from chinhquyenso.pests.models import Station
        from chinhquyenso.pests.services.stations import issue_credentials

        found = Station.objects.filter(code=station).first()
        if found is None:
            raise CommandError(f"Không có trạm mã “{station}”.")
        secret = issue_credentials(found, actor=None)
        self.stdout.write(f"Mã thiết bị: {found.device_id}\nMã bí mật: {secret}")
        self.stderr.write("Mã bí mật chỉ in một lần: nạp vào bẫy ngay, không lưu ở nơi khác.")

    # ------------------------------------------------------------ export-labels (photo identification)

    def handle_export_labels(self, *, directory, user=None, **options):
        from chinhquyenso.accounts.models import User
        from chinhquyenso.pests.services.identification import export_labels

        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"Không có tài khoản “{user}”.")
        result = export_labels(directory, actor=actor)
        self.stdout.write(f"Đã xuất {result['photos']} ảnh, {len(result['classes'])} lớp vào {result['directory']}.")
        if result.get("conflicts"):
            self.stdout.write(f"Bỏ qua {result['conflicts']} ảnh có nhãn khác nhau cho cùng nội dung.")
