"""The Vietnamese names of the audit actions the documents app records and of the messages it
sends (core.registry.AUDIT_ACTIONS, MESSAGE_KINDS). A document's step is "documents.<action>";
an edit in the administration "documents.<model>.<create|update|delete>"."""

from django.apps import apps

from chinhquyenso.core.registry import CodeLabels, admin_edit_labels
from chinhquyenso.documents.services import incoming

OUTGOING_ACTIONS = {
    "documents.create": "Tạo dự thảo văn bản đi",
    "documents.update": "Sửa thông tin dự thảo văn bản",
    "documents.set_recipients": "Sửa nơi nhận văn bản",
    "documents.add_version": "Thêm phiên bản dự thảo văn bản",
    "documents.add_attachment": "Đính kèm tệp vào văn bản",
    "documents.comment": "Góp ý văn bản",
    "documents.submit": "Trình duyệt văn bản",
    "documents.review": "Duyệt một bước của văn bản",
    "documents.approve": "Phê duyệt văn bản",
    "documents.return": "Trả lại văn bản để sửa",
    "documents.sign": "Lãnh đạo ký số văn bản",
    "documents.number": "Cấp số văn bản đi",
    "documents.issue_failed": "Ký số cơ quan không thành công khi ban hành",
    "documents.issue": "Ban hành văn bản",
    "documents.recall": "Thu hồi văn bản",
    "documents.replace": "Văn bản bị thay thế",
    "documents.receive": "Vào sổ văn bản đến (điện tử)",
}
# The incoming side's (documents.services.incoming) names are kept beside its code.
INCOMING_ACTIONS: dict[str, str] = incoming.AUDIT_ACTIONS

# Timeline rows written without an audit record of their own (the action that caused them has one).
TIMELINE_ONLY = {
    "deliver": "Chuyển văn bản đến nơi nhận trong tỉnh",
    "recipient_status": "Nơi nhận báo trạng thái xử lý",
    "recalled_by_sender": "Bên gửi thu hồi văn bản",
    "replaced_by_sender": "Bên gửi thay thế văn bản",
}


def step_label(action: str) -> str:
    """The Vietnamese name of a timeline row's action (DocumentStep.action)."""
    return (
        TIMELINE_ONLY.get(action)
        or OUTGOING_ACTIONS.get(f"documents.{action}")
        or INCOMING_ACTIONS.get(f"documents.{action}", action)
    )


AUDIT_ACTIONS = CodeLabels(
    exact={
        **OUTGOING_ACTIONS,
        **INCOMING_ACTIONS,
        # Timeline rows shown with the same names as the audited actions (the pages look them up here).
        **{f"documents.{action}": label for action, label in TIMELINE_ONLY.items()},
        **admin_edit_labels("documents", apps.get_app_config("documents").get_models()),
    }
)
MESSAGE_KINDS = CodeLabels(
    exact={
        "documents.send": "Gửi văn bản qua trục liên thông văn bản quốc gia",
        "documents.status_report": "Báo trạng thái xử lý văn bản qua trục liên thông",
        "documents.incoming_arrived": "Báo văn thư có văn bản đến",
        **incoming.MESSAGE_KINDS,
    }
)
