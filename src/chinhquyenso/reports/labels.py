"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "report.templates.load": "Nạp mẫu báo cáo",
        "report.draft": "Lập dự thảo báo cáo",
        "report.edit": "Sửa nội dung báo cáo",
        "report.issue": "Ban hành báo cáo",
    }
)
