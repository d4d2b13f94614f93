"""The Vietnamese names of the audit actions and message kinds the pest surveillance app writes
(core.registry.AUDIT_ACTIONS, MESSAGE_KINDS)."""

from django.apps import apps

from chinhquyenso.core.registry import CodeLabels, admin_edit_labels

PEST_ACTIONS: dict[str, str] = {
    "pests.catalog.load": "Nạp danh mục sinh vật gây hại, lớp bẫy đèn và ngưỡng",
    "pests.station.credentials": "Cấp mã bí mật cho bẫy đèn thông minh",
    "pests.ingest.import": "Nhập sổ theo dõi bẫy đèn (CSV)",
    "pests.message.review": "Xem xét tin nhắn nghi ngờ của bẫy đèn",
    "pests.survey.submit": "Gửi phiếu điều tra đồng ruộng",
    "pests.alert.acknowledge": "Tiếp nhận cảnh báo sinh vật gây hại",
    "pests.alert.close": "Kết thúc cảnh báo sinh vật gây hại",
    "pests.bulletin.issue": "Lập thông báo tình hình sinh vật gây hại",
    "pests.subscription.create": "Đăng ký nhận cảnh báo sinh vật gây hại",
    "pests.subscription.end": "Hủy đăng ký nhận cảnh báo sinh vật gây hại",
    "pests.identify.confirm": "Chuyên gia xác nhận ảnh nhận dạng",
    "pests.identify.export": "Xuất bộ ảnh đã xác nhận để huấn luyện mô hình",
}

PEST_MESSAGES: dict[str, str] = {
    "pests.alert.sms": "Cảnh báo sinh vật gây hại (SMS)",
    "pests.alert.chat": "Cảnh báo sinh vật gây hại (kênh nhắn tin)",
    "pests.alert.notice": "Cảnh báo sinh vật gây hại cho cán bộ xã",
    "pests.identify.answer": "Kết quả nhận dạng ảnh sau khi chuyên gia xác nhận",
    "pests.subscription.code": "Mã xác nhận đăng ký nhận cảnh báo sinh vật gây hại",
}

ADMIN_EDITS: dict[str, str] = admin_edit_labels("pests", apps.get_app_config("pests").get_models())

AUDIT_ACTIONS = CodeLabels(exact={**PEST_ACTIONS, **ADMIN_EDITS})
MESSAGE_KINDS = CodeLabels(exact=PEST_MESSAGES)
