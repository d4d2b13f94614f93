"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels, admin_edit_labels
from chinhquyenso.exchange.models import BusAccessRight, BusMember, BusOperation, BusService, BusSubsystem

AUDIT_ACTIONS = CodeLabels(
    exact={
        "outbox.retry": "Gửi lại thư, tin nhắn gửi lỗi",
        "bus.replay": "Gửi lại lời gọi qua trục liên thông bị lỗi",
        "bus.discard": "Hủy lời gọi qua trục liên thông không gửi được",
        "bus.log_read": "Xem nội dung thông điệp trong nhật ký trục liên thông",
        "bus.log_archive": "Lưu trữ nhật ký trục liên thông ra tệp",
        "bus.registry.load": "Nạp danh mục trục liên thông từ tệp kèm phần mềm",
        "bus.registry.import": "Nạp văn bản danh mục trục liên thông có chữ ký",
        # The province administrator's edits of the bus registry (exchange.admin): exchange.<model>.<verb>.
        **admin_edit_labels("exchange", (BusMember, BusSubsystem, BusService, BusOperation, BusAccessRight)),
        "notification_consent.give": "Công dân đồng ý nhận thông báo qua một kênh",
        "notification_consent.withdraw": "Công dân rút lại đồng ý nhận thông báo qua một kênh",
    }
)
