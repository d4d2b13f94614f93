"""The Vietnamese names of the audit actions the master person index records (core.registry.AUDIT_ACTIONS)."""

from django.apps import apps

from chinhquyenso.core.registry import CodeLabels, admin_edit_labels

PERSON_ACTIONS: dict[str, str] = {
    "persons.import": "Nhập danh sách hồ sơ sức khỏe",
    "persons.sync": "Cập nhật bản ghi từ sổ hộ tịch và người nộp hồ sơ",
    "persons.train": "Huấn luyện mô hình so khớp bản ghi",
    "persons.link": "Chạy so khớp, gom bản ghi theo người",
    "persons.decide": "Quyết định cặp bản ghi (cùng người / khác người / chưa chắc)",
    "persons.merge": "Gộp bản ghi vào một người",
    "persons.split": "Tách bản ghi khỏi một người",
    "persons.unmerge": "Hoàn tác gộp, khôi phục các nhóm trước đó",
    "persons.view_record": "Xem bản ghi cá nhân",
    "persons.view_pair": "Xem cặp bản ghi để đối soát",
    "persons.view_person": "Xem hồ sơ gộp của một người",
    "persons.export": "Xuất danh sách nhóm bản ghi theo người",
}

ADMIN_EDITS: dict[str, str] = admin_edit_labels("persons", apps.get_app_config("persons").get_models())

AUDIT_ACTIONS = CodeLabels(exact={**PERSON_ACTIONS, **ADMIN_EDITS})
