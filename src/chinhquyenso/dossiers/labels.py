"""The Vietnamese names of the audit actions this app records and of the messages it sends
(core.registry.AUDIT_ACTIONS, MESSAGE_KINDS). A step of a dossier is recorded as
"dossier.<action>", named as the dossier's timeline names it."""

from chinhquyenso.core.registry import CodeLabels
from chinhquyenso.dossiers.models import EVENT_LABELS

AUDIT_ACTIONS = CodeLabels(
    exact={
        **{f"dossier.{action}": label for action, label in EVENT_LABELS.items()},
        "dossier.comment": "Ghi ý kiến vào hồ sơ",
        "dossier.digitize": "Số hóa giấy tờ của hồ sơ",
        "dossier.payment": "Thu phí, lệ phí",
        "dossier.import": "Nhập hồ sơ từ tệp",
        "edata.reuse": "Dùng lại giấy tờ điện tử trong kho dữ liệu",
        "dossier.civil_status_synced": "Đã đồng bộ sự kiện hộ tịch vào CSDL hộ tịch điện tử (Bộ Tư pháp)",
    }
)
MESSAGE_KINDS = CodeLabels(
    exact={
        "dossiers.due_soon": "Nhắc cán bộ: hồ sơ sắp đến hạn",
        "dossiers.overdue": "Báo lãnh đạo: hồ sơ quá hạn",
        "dossiers.national_status": "Đồng bộ trạng thái hồ sơ lên Cổng Dịch vụ công quốc gia",
        "dossiers.civil_status_push": "Đồng bộ sự kiện hộ tịch đã đăng ký vào CSDL hộ tịch điện tử (Bộ Tư pháp)",
        "dossiers.part_submit": "Gửi một phần hồ sơ liên thông sang hệ thống khác qua trục",
        "dossiers.part_update": "Báo công dân: cập nhật hồ sơ liên thông",
        "dossiers.part_failed": "Báo Bộ phận Một cửa: một phần hồ sơ liên thông chưa thành",
    }
)
