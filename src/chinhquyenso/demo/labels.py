"""The Vietnamese names of the audit actions the demo province's loader records
(core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "calendar.import": "Nạp lịch làm việc của tỉnh",
        "procedure.assign_bulk": "Giao thủ tục hành chính cho các cơ quan",
        "procedure_group.create": "Tạo nhóm thủ tục liên thông",
        "demo.citizens": "Tạo công dân mẫu",
        "demo.generate": "Tạo hồ sơ mẫu",
        "demo.feedback": "Tạo phản ánh mẫu",
        "demo.signing_keys": "Khai báo khóa ký số mẫu (PKI thử nghiệm)",
    }
)
