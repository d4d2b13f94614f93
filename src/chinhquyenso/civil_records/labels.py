"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS):
a reviewed field is recorded as "civil.field_<the review's action>"."""

from chinhquyenso.civil_records.models import FieldReview
from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "civil.batch_created": "Tạo đợt nhập sổ hộ tịch",
        "civil.import": "Nhập dữ liệu sổ hộ tịch",
        "civil.book_confirmed": "Xác nhận cả quyển sổ hộ tịch",
        "civil.scan_added": "Thêm bản quét trang sổ hộ tịch",
        "civil.extract_issued": "Cấp trích lục hộ tịch",
        **{f"civil.field_{action}": f"Rà soát trường dữ liệu: {label}" for action, label in FieldReview.Action.choices},
    }
)
