"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "procedure.create": "Thêm thủ tục hành chính",
        "procedure.update": "Sửa thủ tục hành chính",
        "procedure.transfer": "Chuyển thẩm quyền giải quyết thủ tục hành chính",
        "procedure.assignments_follow_reorganization": "Chuyển cơ quan giải quyết thủ tục theo sắp xếp tổ chức",
        "procedure.catalog_import": "Nhập danh mục thủ tục hành chính",
        "procedure_form.publish": "Ban hành phiên bản tờ khai điện tử",
    }
)
