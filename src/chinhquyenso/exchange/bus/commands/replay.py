"""`cqs bus replay ID`: a failed or dead asynchronous call back to the queue (exchange.bus.delivery)."""

from django.core.management.base import CommandError
from django.utils import timezone

from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.bus import delivery
from chinhquyenso.exchange.models import Message


def add(actions) -> None:
    parser = actions.add_parser(
        "replay",
        help="Gửi lại một lời gọi qua trục đang lỗi hoặc đã dừng thử lại (thư chết); có ghi nhật ký kiểm toán.",
        description=(
            "Đưa lời gọi số ID (mã số trong hàng đợi gửi) về trạng thái chờ gửi, đếm lại số lần gửi từ 0. "
            "Lời gọi đã gửi thành công hoặc đang chờ gửi thì không gửi lại."
        ),
    )
    parser.add_argument(
        "id", type=int, metavar="ID", help="Mã số lời gọi trong hàng đợi gửi (cột ID trong trang quản trị)."
    )
    parser.add_argument(
        "--discard",
        action="store_true",
        help="Hủy lời gọi thay vì gửi lại (không bao giờ được chấp nhận); các lời gọi sau của cùng hồ sơ không còn phải chờ.",
    )
    parser.add_argument("--reason", default="", metavar="LÝ_DO", help="Lý do hủy (bắt buộc khi dùng --discard).")
    parser.add_argument(
        "--now",
        action="store_true",
        help="Gửi ngay trong lệnh này thay vì chờ tác vụ nền (nếu không có lời gọi trước cùng hồ sơ đang chờ).",
    )


def run(command, options) -> None:
    if options.get("discard"):
        try:
            message = delivery.discard(options["id"], reason=options.get("reason") or "")
        except DomainError as error:
            raise CommandError(error.message) from None
        command.stdout.write(f"Đã hủy lời gọi số {message.pk} ({message.subject} → {message.recipient}).")
        return
    try:
        message = delivery.replay(options["id"])
    except DomainError as error:
        raise CommandError(error.message) from None
    command.stdout.write(
        f"Đã đưa lời gọi số {message.pk} ({message.subject} → {message.recipient}) vào hàng đợi gửi lại."
    )
    if options.get("now"):
        outbox.deliver_now([message.pk], timezone.now())
        message.refresh_from_db()
        if message.state == Message.State.SENT:
            command.stdout.write("Đã gửi thành công.")
        else:
            reason = f": {message.last_error}" if message.last_error else ""
            command.stdout.write(f"Chưa gửi được ({message.get_state_display()}){reason}.")
