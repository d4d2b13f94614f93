"""The Vietnamese names of the audit actions this app records and of the messages it sends
(core.registry.AUDIT_ACTIONS, MESSAGE_KINDS). A step of a report is recorded as
"feedback.<action>"; an edit in the administration as "feedback.<model>.<create|update|delete>"."""

from django.apps import apps

from chinhquyenso.core.registry import CodeLabels, admin_edit_labels
from chinhquyenso.feedback.services.escalation import ESCALATION_LEVELS

AUDIT_ACTIONS = CodeLabels(
    exact={
        "feedback.submit": "Tiếp nhận phản ánh",
        "feedback.assign": "Chuyển phản ánh cho cơ quan xử lý",
        "feedback.start": "Bắt đầu xử lý phản ánh",
        "feedback.request_info": "Đề nghị người phản ánh bổ sung thông tin",
        "feedback.provide_info": "Người phản ánh bổ sung thông tin",
        "feedback.resolve": "Xử lý xong phản ánh",
        "feedback.reject": "Từ chối phản ánh",
        "feedback.comment": "Ghi ý kiến nội bộ về phản ánh",
        "feedback.reply": "Trả lời người phản ánh",
        "feedback.merge": "Gộp phản ánh trùng",
        "feedback.split": "Tách phản ánh",
        "feedback.rate": "Người phản ánh đánh giá kết quả",
        "feedback.reopen": "Người phản ánh mở lại phản ánh",
        "feedback.auto_close": "Tự động đóng phản ánh không được đánh giá",
        "feedback.escalate": "Chuyển cấp phản ánh",
        "feedback.area_point": "Đặt tọa độ địa bàn",
        "feedback.categories.load": "Nạp danh mục lĩnh vực phản ánh",
        "feedback.follow_reorganization": "Chuyển phản ánh theo sắp xếp tổ chức",
        "open311_client.issue": "Cấp khóa cho ứng dụng Open311",
        "open311_client.revoke": "Thu hồi khóa của ứng dụng Open311",
        **admin_edit_labels("feedback", apps.get_app_config("feedback").get_models()),
    }
)
MESSAGE_KINDS = CodeLabels(
    exact={
        "feedback.verification_code": "Mã xác minh số điện thoại",
        "feedback.merged": "Báo người phản ánh: phản ánh được gộp",
        "feedback.split": "Báo người phản ánh: phản ánh được tách",
        "feedback.info_requested": "Đề nghị người phản ánh bổ sung thông tin",
        "feedback.resolved": "Báo người phản ánh: đã xử lý xong",
        "feedback.original_resolved": "Báo người phản ánh: phản ánh gốc đã xử lý xong",
        "feedback.rejected": "Báo người phản ánh: phản ánh bị từ chối",
        "feedback.reply": "Cơ quan trả lời người phản ánh",
        "feedback.notice": "Thông báo cho người phản ánh",
        **{
            f"feedback.escalation_{level}": f"Chuyển cấp phản ánh: {label}"
            for level, label in ESCALATION_LEVELS.items()
        },
    }
)
