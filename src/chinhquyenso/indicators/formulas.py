"""Formulas are data: arithmetic over named measures, e.g.
``received_online / received``. They are parsed once into closures; nothing
else of Python is reachable from a formula."""

import ast
import operator
from decimal import Decimal
from functools import lru_cache

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.registry import INDICATOR_MEASURES

# Columns of DossierFact, summed over the period.
FACT_MEASURES = {
    "received": "hồ sơ tiếp nhận",
    "received_online": "hồ sơ tiếp nhận trực tuyến",
    "received_counter": "hồ sơ tiếp nhận trực tiếp",
    "received_post": "hồ sơ tiếp nhận qua bưu chính",
    "received_digitized": "hồ sơ tiếp nhận đã số hóa",
    "received_reusing": "hồ sơ tái sử dụng dữ liệu, giấy tờ điện tử",
    "with_fee": "hồ sơ phải nộp phí, lệ phí",
    "paid_online": "hồ sơ thanh toán trực tuyến",
    "payment_method_unknown": "hồ sơ phải nộp phí, lệ phí không rõ hình thức thanh toán (chuyển từ hệ thống cũ)",
    "finished": "hồ sơ đã giải quyết",
    "finished_early": "hồ sơ giải quyết trước hạn",
    "finished_on_time": "hồ sơ giải quyết đúng hạn",
    "finished_late": "hồ sơ giải quyết trễ hạn",
    "finished_electronic": "hồ sơ có kết quả điện tử",
    "processing_days": "tổng số ngày giải quyết (từ tiếp nhận đến có kết quả)",
}
# Each fact measure restricted to procedures offered online (partly or fully),
# or fully online: the two denominators the seeds' definitions disagree on.
SERVICE_SCOPES = {
    "online_services": ("partly_online", "full_online"),
    "full_online_services": ("full_online",),
}
# Dossiers open at the period's end (or now, for a period not yet over).
OPEN_MEASURES = {
    "open_total": "hồ sơ đang giải quyết",
    "open_in_time": "hồ sơ đang giải quyết trong hạn",
    "open_overdue": "hồ sơ đang giải quyết quá hạn",
}
# Procedures the agency handled in the period (its assignments, any service
# level), counted from the catalog rather than from dossiers.
CATALOG_MEASURES = {
    "procedures_handled": "thủ tục hành chính cơ quan giải quyết (mọi mức độ dịch vụ)",
    "services_online": "dịch vụ công trực tuyến (một phần, toàn trình) cơ quan giải quyết",
    "services_with_online_dossier": "dịch vụ công trực tuyến có phát sinh hồ sơ trực tuyến",
    "fee_procedures_handled": "thủ tục hành chính có phí, lệ phí cơ quan giải quyết",
    "fee_procedures_online": "thủ tục hành chính có phí, lệ phí được cung cấp dịch vụ công trực tuyến",
}


def measure_names() -> dict[str, str]:
    """Every measure a formula may use: the dossier facts computed here, and
    those other apps register (core.registry.INDICATOR_MEASURES)."""
    names = dict(FACT_MEASURES)
    for scope, label in (("online_services", "DVC trực tuyến"), ("full_online_services", "DVC trực tuyến toàn trình")):
        names.update({f"{name}__{scope}": f"{text} (thủ tục {label})" for name, text in FACT_MEASURES.items()})
    names.update(OPEN_MEASURES)
    names.update(CATALOG_MEASURES)
    for source in INDICATOR_MEASURES.values():
        names.update(source.labels)
    return names


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _compile(node, field: str):
    if isinstance(node, ast.Expression):
        return _compile(node.body, field)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        op, left, right = _OPERATORS[type(node.op)], _compile(node.left, field), _compile(node.right, field)
        if op is operator.truediv:
            return lambda m: (lambda d: left(m) / d if d else Decimal(0))(right(m))
        return lambda m: op(left(m), right(m))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _compile(node.operand, field)
        return lambda m: -inner(m)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        value = Decimal(str(node.value))
        return lambda m: value
    if isinstance(node, ast.Name):
        known = measure_names()
        if node.id not in known:
            raise DomainError(
                f"Công thức: không có đại lượng «{node.id}». Các đại lượng: {', '.join(sorted(known))}.", field=field
            )
        name = node.id
        return lambda m: Decimal(m.get(name, 0))
    raise DomainError("Công thức chỉ được dùng tên đại lượng, số, + - * / và dấu ngoặc.", field=field)


@lru_cache(maxsize=512)
def compile_expression(text: str, field: str = "numerator"):
    """'received_online + received_post' → function(measures) → Decimal."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise DomainError(f"Công thức «{text}» viết sai cú pháp.", field=field) from None
    return _compile(tree, field)


def names_in(text: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(text.strip(), mode="eval")) if isinstance(node, ast.Name)}
