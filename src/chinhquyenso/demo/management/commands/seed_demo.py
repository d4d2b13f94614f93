import datetime as dt
import time

from django.core.management.base import CommandError
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.demo.generator import build_demo_province
from chinhquyenso.demo.services import account_lines


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Ngày không hợp lệ: {value} (định dạng YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Dựng tỉnh mẫu An Giang trên cơ sở dữ liệu trống: cơ quan, thủ tục, lịch làm việc, tài khoản, "
        "hồ sơ giả lập 2022 đến nay (hiệu chỉnh theo báo cáo của tỉnh) và các đợt sắp xếp tổ chức năm 2025."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dossiers", type=int, default=20000, help="Số hồ sơ giả lập (mặc định 20000).")
        parser.add_argument(
            "--seed", type=int, default=2025, help="Hạt giống ngẫu nhiên; cùng hạt giống cho cùng dữ liệu."
        )
        parser.add_argument(
            "--until",
            type=_date,
            default=None,
            help="Ngày cuối có hồ sơ (YYYY-MM-DD); mặc định hôm qua. Hồ sơ của vài tuần cuối còn đang giải quyết.",
        )
        parser.add_argument(
            "--no-documents",
            action="store_true",
            help="Không tạo PKI thử nghiệm, khóa ký số, văn thư, văn bản mẫu và kết quả điện tử có chữ ký số (nhanh hơn).",
        )
        parser.add_argument(
            "--no-opendata",
            action="store_true",
            help="Không tạo dữ liệu mở mẫu (bộ dữ liệu sinh tự động, bộ dữ liệu của 179/188 cơ quan năm 2024, hàng chờ duyệt).",
        )
        parser.add_argument(
            "--no-persons",
            action="store_true",
            help="Không tạo chỉ mục cá nhân mẫu (hồ sơ sức khỏe giả lập có bản ghi trùng, so khớp, hàng chờ đối soát).",
        )
        parser.add_argument(
            "--no-pests",
            action="store_true",
            help="Không tạo số liệu giám sát sâu bệnh mẫu (bẫy đèn thông minh, một vụ số liệu bẫy, phiếu điều tra, "
            "cảnh báo, thông báo).",
        )

    def handle(
        self,
        *args,
        dossiers,
        seed,
        until,
        no_documents=False,
        no_opendata=False,
        no_persons=False,
        no_pests=False,
        **options,
    ):
        until = until or timezone.localdate() - dt.timedelta(days=1)
        started = time.monotonic()
        try:
            result = build_demo_province(dossiers=dossiers, seed=seed, until=until, log=self.stdout.write)
        except DomainError as error:
            raise CommandError(error.message) from None
        s = result.stats
        self.stdout.write(
            self.style.SUCCESS(
                f"Xong trong {time.monotonic() - started:.1f} giây: {result.agencies} phiên bản cơ quan, {result.procedures} thủ tục "
                f"({result.fields} lĩnh vực), {s.dossiers} hồ sơ ({s.open} đang giải quyết), {s.events} sự kiện, "
                f"{s.citizens} công dân giả lập."
            )
        )
        for line in s.reorganizations:
            self.stdout.write(f"  • {line}")
        # The data bus's registry (members, services, access rights) from the shipped files.
        from chinhquyenso.exchange.bus import registry as bus_registry

        try:
            loaded = bus_registry.load_defaults()
        except DomainError as error:
            self.stderr.write(self.style.WARNING(f"Không nạp được danh mục trục liên thông: {error.message}"))
        else:
            self.stdout.write(
                f"Danh mục trục liên thông: {loaded['services']} dịch vụ, {loaded['access_rights']} quyền gọi."
            )
        if not no_documents:
            self._documents(seed)
        if not no_pests:  # before the open data: its live datasets include the pest densities
            self._pests(seed, until)
        if not no_opendata:
            self._opendata(seed)
        if not no_persons:
            self._persons(seed)
        # The demo's audit trail starts signed, so `cqs audit verify` has a checkpoint to check against.
        try:
            written = audit.checkpoint()
        except audit.ChainBroken as error:
            self.stderr.write(self.style.WARNING(error.message))
        else:
            if written:
                self.stdout.write(f"Điểm mốc kiểm toán có chữ ký: tới bản ghi số {written[-1].seq}.")
        self.stdout.write("\n" + "\n".join(account_lines()))

    def _opendata(self, seed: int) -> None:
        """The open-data portal's datasets (demo.opendata), after the province's transaction: each
        dataset is written in its own. A failure leaves the province built, and says why."""
        from chinhquyenso.demo.opendata import build_opendata

        try:
            stats = build_opendata(seed=seed, log=self.stdout.write)
        except DomainError as error:
            self.stderr.write(self.style.WARNING(f"Không tạo được dữ liệu mở mẫu: {error.message}"))
            return
        self.stdout.write(
            f"Dữ liệu mở ({stats.seconds:.1f} giây): {stats.live} bộ dữ liệu sinh tự động, {stats.published} bộ dữ liệu "
            f"của các cơ quan công bố đến {stats.period_end:%d/%m/%Y}, {stats.waiting} bộ dữ liệu chờ duyệt hoặc đang soạn; "
            f"chưa công bố: {', '.join(stats.not_publishing)}."
        )

    def _persons(self, seed: int) -> None:
        """The master person index (demo.persons): synthetic health records imported and linked, after
        the province's transaction (the import and the linking write in their own). A failure leaves the
        province built, and says why."""
        from chinhquyenso.demo.persons import build_persons

        try:
            build_persons(seed=seed, log=self.stdout.write)
        except DomainError as error:
            self.stderr.write(self.style.WARNING(f"Không tạo được chỉ mục cá nhân mẫu: {error.message}"))

    def _pests(self, seed: int, until: dt.date) -> None:
        """Crop-pest surveillance (demo.pests): stations, a season of trap data fed to the ingestion
        service directly, surveys, alerts and a bulletin, after the province's transaction. A failure
        leaves the province built, and says why."""
        from chinhquyenso.demo.pests import build_pests

        try:
            build_pests(seed=seed, until=until, log=self.stdout.write)
        except DomainError as error:
            self.stderr.write(self.style.WARNING(f"Không tạo được số liệu giám sát sâu bệnh mẫu: {error.message}"))

    def _documents(self, seed: int) -> None:
        """Signatures and documents flowing between agencies (demo.documents), after the province's
        transaction: signing calls the demo PKI's time-stamp service, never inside a transaction. A
        failure leaves the province built, and says why."""
        from chinhquyenso.demo.documents import build_documents

        started = time.monotonic()
        try:
            signing, stats = build_documents(seed=seed, log=self.stdout.write)
        except DomainError as error:
            self.stderr.write(self.style.WARNING(f"Không tạo được văn bản, chữ ký số mẫu: {error.message}"))
            return

        def counts(statuses: dict) -> str:
            return ", ".join(f"{count} {label.lower()}" for label, count in statuses.items())

        self.stdout.write(
            f"Chữ ký số: {signing.agency_keys} khóa của cơ quan, {signing.personal_keys} khóa cá nhân của lãnh đạo, "
            f"{signing.clerks} văn thư. Văn bản mẫu ({time.monotonic() - started:.1f} giây, {stats.signatures} chữ ký số): "
            f"văn bản đi {counts(stats.outgoing_statuses)}; văn bản đến {counts(stats.incoming_statuses)}; "
            f"{stats.results} kết quả điện tử có chữ ký số trong kho dữ liệu của công dân."
        )
