"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "signing.sign": "Ký số văn bản (PAdES)",
        "signing.key.check": "Kiểm tra khoá ký số",
        "signing.signingkey.create": "Khai báo khoá ký số",
        "signing.signingkey.update": "Sửa khoá ký số",
        "signing.signingkey.delete": "Xoá khoá ký số",
    }
)
