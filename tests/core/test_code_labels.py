"""Every audit action and outbox message kind the code can write has a Vietnamese name
(core.registry.AUDIT_ACTIONS / MESSAGE_KINDS, registered by the apps that write them), and the
administration shows it: "Tiếp nhận hồ sơ (dossier.accept)", not "dossier.accept".

The codes are read from the source: the `action=` of every `audit.record(…)` and of every step of a
`Workflow` (its `audit_prefix` + "." + action), the `kind=` of every outbox message
(`outbox.build`, `outbox.enqueue`, `Message(…)` in the data migrations). A code built at run time
is followed to the values it can take where the source says them (a constant, a choice, an
argument given by a caller in the code); a tail only known at run time (a model's name, a value
read from the database) must be covered by the names the app registered."""

from __future__ import annotations

import ast
import enum
import importlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

import chinhquyenso
from chinhquyenso.core import audit
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.core.registry import AUDIT_ACTIONS, MESSAGE_KINDS, CodeLabelRegistry, CodeLabels

SRC = Path(chinhquyenso.__file__).parent
HOLE = object()  # a part of a code only known at run time


@dataclass(frozen=True)
class Found:
    what: str  # "audit" or "message"
    parts: tuple  # strings and HOLE
    where: str

    @property
    def code(self) -> str:
        return "".join("*" if p is HOLE else p for p in self.parts)

    @property
    def pattern(self) -> re.Pattern:
        return re.compile("".join(r"[\w.]+" if p is HOLE else re.escape(p) for p in self.parts) + "$")


class Module:
    def __init__(self, path: Path):
        self.path = path
        self.name = "chinhquyenso." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parents = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self._globals = None

    def globals(self) -> dict:
        if self._globals is None:
            self._globals = vars(importlib.import_module(self.name))
        return self._globals

    def function_of(self, node):
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None


MODULES = [Module(path) for path in sorted(SRC.rglob("*.py"))]


def _calls_to(name: str):
    """Every call of a function named `name` in the code base: (module, call)."""
    for module in MODULES:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == name:
                    yield module, node


def _argument(call: ast.Call, function: ast.FunctionDef, param: str):
    for keyword in call.keywords:
        if keyword.arg == param:
            return keyword.value
    names = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    if param in names and names.index(param) < len(call.args):
        arg = call.args[names.index(param)]
        return None if isinstance(arg, ast.Starred) else arg
    return None


def values(module: Module, expr, depth: int = 0) -> list[tuple]:
    """The codes `expr` can give, each as a tuple of strings and HOLEs."""
    if depth > 4:
        return [(HOLE,)]
    if isinstance(expr, ast.Constant):
        return [(str(expr.value),)] if expr.value is not None else []
    if isinstance(expr, ast.JoinedStr):
        pieces = [
            [(p.value,)] if isinstance(p, ast.Constant) else values(module, p.value, depth + 1) for p in expr.values
        ]
        return [sum(combination, ()) for combination in itertools.product(*pieces)]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return [
            a + b
            for a, b in itertools.product(values(module, expr.left, depth + 1), values(module, expr.right, depth + 1))
        ]
    if isinstance(expr, ast.IfExp):
        return values(module, expr.body, depth + 1) + values(module, expr.orelse, depth + 1)
    if isinstance(expr, ast.BoolOp):
        return [v for operand in expr.values for v in values(module, operand, depth + 1)]
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):  # f"…"[:60]
        return values(module, expr.value, depth + 1)
    if isinstance(expr, ast.Name):
        function = module.function_of(expr)
        if function is not None:
            found = _local(module, function, expr.id, depth)
            if found is not None:
                return found
    if isinstance(expr, ast.Name | ast.Attribute):
        try:
            value = eval(compile(ast.Expression(expr), module.name, "eval"), module.globals())  # noqa: S307
        except (NameError, AttributeError):
            return [(HOLE,)]
        if isinstance(value, enum.Enum):
            value = value.value
        if isinstance(value, str | int):
            return [(str(value),)]
    return [(HOLE,)]


def _local(module: Module, function, name: str, depth: int) -> list[tuple] | None:
    """A name inside a function: its assignments there, or, for a parameter, what the callers pass."""
    assigned = [
        node.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]
    if assigned:
        return [v for value in assigned for v in values(module, value, depth + 1)]
    params = [a.arg for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]]
    if name not in params:
        return None
    found = []
    for caller, call in _calls_to(function.name):
        arg = _argument(call, function, name)
        if arg is None:
            # Passed on as `name=name` or not at all: what the caller's own callers give.
            found.append((HOLE,))
            continue
        found += values(caller, arg, depth + 1)
    return found or [(HOLE,)]


def _workflow_prefixes() -> dict[str, str]:
    """Workflow instance name → its audit_prefix ("WORKFLOW" → "dossier")."""
    prefixes = {}
    for module in MODULES:
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")) != "Workflow":
                    continue
                prefix = next(k.value.value for k in node.value.keywords if k.arg == "audit_prefix")
                for target in node.targets:
                    assert prefixes.setdefault(target.id, prefix) == prefix, f"two workflows named {target.id}"
    return prefixes


def written_codes() -> list[Found]:
    workflows = _workflow_prefixes()
    found = []
    for module in MODULES:
        if module.name == "chinhquyenso.core.workflow":
            continue  # the mechanism itself: the workflows' callers say the codes
        for call in (n for n in ast.walk(module.tree) if isinstance(n, ast.Call)):
            func = call.func
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            keywords = {k.arg: k.value for k in call.keywords}
            where = f"{module.path.relative_to(SRC)}:{call.lineno}"
            if owner == "audit" and called == "record":
                found += [Found("audit", v, where) for v in values(module, keywords["action"])]
            elif owner in workflows and called in ("transition", "created"):
                prefix = workflows[owner] + "."
                found += [Found("audit", (prefix, *v), where) for v in values(module, keywords["action"])]
            elif (owner == "outbox" and called in ("build", "enqueue")) or (
                called == "Message" and ".migrations." in module.name  # the old notices moved to the outbox
            ):
                kind = keywords.get("kind")
                if kind is None:  # outbox.build(…, **common): the dict's "kind"
                    splat = next(k.value for k in call.keywords if k.arg is None)
                    function = module.function_of(call)
                    (common,) = [
                        n.value
                        for n in ast.walk(function)
                        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == splat.id for t in n.targets)
                    ]
                    kind = common.values[[k.value for k in common.keys].index("kind")]
                found += [Found("message", v, where) for v in values(module, kind)]
    return found


def _merge_constants(parts: tuple) -> tuple:
    merged = []
    for part in parts:
        if merged and part is not HOLE and merged[-1] is not HOLE:
            merged[-1] += part
        else:
            merged.append(part)
    return tuple(merged)


def _names(found: Found) -> dict:
    registry = AUDIT_ACTIONS if found.what == "audit" else MESSAGE_KINDS
    exact = {code: name for _, labels in registry.items() for code, name in labels.exact.items()}
    prefixes = {head: name for _, labels in registry.items() for head, name in labels.prefixes.items()}
    return exact, prefixes


def test_every_code_written_has_a_vietnamese_name():
    found = [Found(f.what, _merge_constants(f.parts), f.where) for f in written_codes()]
    codes = {f.code for f in found}
    # The scan sees what it must: literal codes, codes built by a workflow, by a caller, from choices.
    assert {"procedure.update", "indicators.registry.load", "dossier.accept", "civil.field_*"} <= codes
    assert {"dossiers.due_soon", "feedback.escalation_*", "feedback.merged", "lris.overdue"} <= codes
    assert {"lris.reminder.overdue", "lris.submission.reopen", "feedback.auto_close"} <= codes
    missing = []
    for f in found:
        exact, prefixes = _names(f)
        if HOLE not in f.parts:
            name = exact.get(f.code)
            if not name or name == f.code:
                missing.append(f"{f.what} {f.code} ({f.where})")
            continue
        # Built at run time: a name for the codes it can be (a registered code the pattern
        # matches), or for every code starting with its fixed head.
        head = f.parts[0] if f.parts[0] is not HOLE else ""
        covered = any(head.startswith(prefix) for prefix in prefixes) or any(f.pattern.match(c) for c in exact)
        if not covered:
            missing.append(f"{f.what} {f.code} ({f.where})")
    assert missing == [], "\n".join(sorted(set(missing)))


def test_names_are_vietnamese():
    """A name is words with Vietnamese letters, not a code."""
    for registry in (AUDIT_ACTIONS, MESSAGE_KINDS):
        for app, labels in registry.items():
            for code, name in [*labels.exact.items(), *labels.prefixes.items()]:
                assert name and name != code and "_" not in name, (app, code, name)
                assert name[0].isupper(), (app, code, name)


def test_runtime_tails_are_named():
    """Codes whose tail is a choice or a model: each value the app can write has its name."""
    from chinhquyenso.civil_records.models import FieldReview
    from chinhquyenso.lris.models import Reminder
    from chinhquyenso.org.models import Reorganization

    codes = [f"civil.field_{a}" for a in FieldReview.Action.values]
    codes += [f"lris.reminder.{k}" for k in Reminder.Kind.values]
    codes += [f"agency.{k}" for k in Reorganization.Kind.values]
    codes += [f"indicators.indicator.{verb}" for verb in ("create", "update", "delete")]
    codes += [f"feedback.category.{verb}" for verb in ("create", "update", "delete")]
    assert [c for c in codes if AUDIT_ACTIONS.label(c) == c] == []
    kinds = [f"feedback.escalation_{level}" for level in (1, 2, 3)]
    assert [k for k in kinds if MESSAGE_KINDS.label(k) == k] == []


def test_unknown_code_shows_as_it_is():
    assert AUDIT_ACTIONS.display("khong.ro") == "khong.ro"
    assert AUDIT_ACTIONS.display("dossier.accept") == "Tiếp nhận hồ sơ (dossier.accept)"


def test_exact_names_before_the_longest_head():
    names = CodeLabelRegistry("thử")
    names.register("a", CodeLabels(exact={"x.y.z": "Tên riêng"}, prefixes={"x.": "Tên chung"}))
    names.register("b", CodeLabels(exact={}, prefixes={"x.y.": "Tên hẹp hơn"}))
    assert [names.label(c) for c in ("x.y.z", "x.y.w", "x.q", "v.x")] == [
        "Tên riêng",
        "Tên hẹp hơn",
        "Tên chung",
        "v.x",
    ]


@pytest.mark.django_db
def test_admin_shows_codes_by_their_names(admin_user):
    from django.db import transaction

    from chinhquyenso.exchange import outbox

    with transaction.atomic():
        audit.record(actor=admin_user, action="procedure.update", object_type="procedures.Procedure", object_id="1")
        message = outbox.enqueue(
            channel="email", recipient="a@example.vn", kind="dossiers.due_soon", subject="", body="Nhắc hạn"
        )
    record = AuditRecord.objects.get(action="procedure.update")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    pages = {
        "/quan-tri/core/auditrecord/": "Sửa thủ tục hành chính (procedure.update)",
        f"/quan-tri/core/auditrecord/{record.pk}/change/": "Sửa thủ tục hành chính (procedure.update)",
        "/quan-tri/exchange/message/": "Nhắc cán bộ: hồ sơ sắp đến hạn (dossiers.due_soon)",
        f"/quan-tri/exchange/message/{message.pk}/change/": "Nhắc cán bộ: hồ sơ sắp đến hạn (dossiers.due_soon)",
    }
    for url, shown in pages.items():
        body = client.get(url).content.decode()
        assert shown in body, url
    # The filters offer the names too.
    assert "Sửa thủ tục hành chính (procedure.update)</a>" in client.get("/quan-tri/core/auditrecord/").content.decode()
    listing = client.get("/quan-tri/exchange/message/").content.decode()
    assert "Nhắc cán bộ: hồ sơ sắp đến hạn (dossiers.due_soon)</a>" in listing


@pytest.mark.django_db
def test_an_officers_page_names_a_message_without_subject():
    from django.db import transaction

    from chinhquyenso.exchange import outbox

    with transaction.atomic():
        message = outbox.enqueue(
            channel="email", recipient="a@example.vn", kind="dossiers.due_soon", subject="", body="Nhắc hạn"
        )
    assert message.title == "Nhắc cán bộ: hồ sơ sắp đến hạn"  # the messages pages print m.title, not the code
