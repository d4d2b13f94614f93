"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(exact={"outbox.retry": "Gửi lại thư, tin nhắn gửi lỗi"})
