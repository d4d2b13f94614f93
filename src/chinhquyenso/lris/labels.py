"""The Vietnamese names of the audit actions this app records and of the messages it sends
(core.registry.AUDIT_ACTIONS, MESSAGE_KINDS). A step of a submitted report is recorded as
"lris.submission.<action>"; a reminder as "lris.reminder.<kind>", its messages as "lris.<kind>"."""

from chinhquyenso.core.registry import CodeLabels
from chinhquyenso.lris.models import Reminder

AUDIT_ACTIONS = CodeLabels(
    exact={
        "lris.forms.load": "Nạp danh mục biểu mẫu báo cáo số liệu",
        "lris.form.create": "Thêm biểu mẫu báo cáo số liệu",
        "lris.form.update": "Sửa biểu mẫu báo cáo số liệu",
        "lris.assign": "Giao báo cáo số liệu cho cơ quan",
        "lris.submission.save": "Lưu số liệu báo cáo",
        "lris.submission.submit": "Gửi báo cáo số liệu",
        "lris.submission.resubmit": "Gửi lại báo cáo số liệu",
        "lris.submission.return": "Trả lại báo cáo số liệu để sửa",
        "lris.submission.approve": "Duyệt báo cáo số liệu",
        "lris.submission.reopen": "Mở lại báo cáo số liệu đã duyệt",
        **{f"lris.reminder.{kind}": f"Nhắc nộp báo cáo số liệu: {label}" for kind, label in Reminder.Kind.choices},
    }
)
MESSAGE_KINDS = CodeLabels(
    exact={f"lris.{kind}": f"Nhắc nộp báo cáo số liệu: {label}" for kind, label in Reminder.Kind.choices}
)
