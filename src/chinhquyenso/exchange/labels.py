"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "outbox.retry": "Gửi lại thư, tin nhắn gửi lỗi",
        "notification_consent.give": "Công dân đồng ý nhận thông báo qua một kênh",
        "notification_consent.withdraw": "Công dân rút lại đồng ý nhận thông báo qua một kênh",
    }
)
