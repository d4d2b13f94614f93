"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS):
a reorganization is recorded as "agency.<its kind>"."""

from chinhquyenso.core.registry import CodeLabels
from chinhquyenso.org.models import Reorganization

AUDIT_ACTIONS = CodeLabels(
    exact={
        "agency.create": "Thêm cơ quan",
        **{f"agency.{kind}": f"Sắp xếp tổ chức: {label}" for kind, label in Reorganization.Kind.choices},
    }
)
