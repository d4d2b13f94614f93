"""Registries that apps fill from their `AppConfig.ready()`.

The kernel and the shared screens never name a higher app: a scheduled job,
a source of indicator measures or a dashboard tile is registered by the app
that owns it, the way event handlers are subscribed (core.events). Reading a
registry returns what the installed apps registered, in registration order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class Registry:
    def __init__(self, what: str):
        self.what = what
        self._entries: dict[str, Any] = {}

    def register(self, name: str, entry: Any) -> Any:
        """Add `entry` under `name`. Registering the same entry again is a
        no-op (ready() may run twice in tests); a different one is a bug."""
        known = self._entries.get(name)
        if known is not None and known != entry:
            raise ValueError(f"{self.what} “{name}” đã được đăng ký với nội dung khác.")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def get(self, name: str) -> Any:
        return self._entries[name]

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(list(self._entries.items()))

    def values(self) -> list[Any]:
        return list(self._entries.values())


@dataclass(frozen=True)
class Job:
    """A periodic job: the dotted path of a django-tasks task and its interval."""

    task: str
    interval_seconds: int


@dataclass(frozen=True)
class MeasureSource:
    """Measures an app computes for indicator formulas.

    `labels`: measure code → Vietnamese description (offered to formulas);
    `compute(start, end)`: {agency version id, or None for the province only:
    {measure code: number}} over the local dates start..end."""

    labels: dict[str, str]
    compute: Any


@dataclass(frozen=True)
class TileSection:
    """A section of the operations dashboard: tiles for indicators an app owns — or, with `live`,
    figures that are no indicator, read at each request (the data bus's calls today):
    `live(user)` → LiveTile list, or None when the user is not to see them (province page only)."""

    title: str
    tiles: tuple[tuple[str, str], ...]  # (indicator code, tile label)
    counts: str = "hồ sơ"  # what the ratios count, in a tile's detail ("2/3 phản ánh")
    live: Any = None


@dataclass(frozen=True)
class LiveTile:
    """A tile of a live section: a value shown as it is now, with no period to compare it with."""

    key: str
    label: str
    display: str
    detail: str = ""
    name: str = ""  # the tile's full name (its heading's title)
    link: str = ""  # where the figures are explained in full
    alert: bool = False  # a value that needs someone's attention (an open circuit, dead letters)
    live = True
    current = previous = change = None
    previous_display = "—"


@dataclass(frozen=True)
class CodeLabels:
    """The Vietnamese names of the codes an app writes: audit actions ("dossier.accept") or
    outbox message kinds ("dossiers.due_soon"). `exact`: code → name. `prefixes`: the head of
    codes built at run time whose tail no list holds → name (the longest matching head wins)."""

    exact: Mapping[str, str]
    prefixes: Mapping[str, str] = field(default_factory=dict)


class CodeLabelRegistry(Registry):
    """App label → CodeLabels. The administration shows a code by its name, the code beside it."""

    def label(self, code: str) -> str:
        """The name an app gave `code`; the code itself when none did."""
        head, name = "", code
        for labels in self._entries.values():
            if code in labels.exact:
                return labels.exact[code]
            for prefix, label in labels.prefixes.items():
                if code.startswith(prefix) and len(prefix) > len(head):
                    head, name = prefix, label
        return name

    def display(self, code: str) -> str:
        """ "Tiếp nhận hồ sơ (dossier.accept)"; an unnamed code as it is."""
        name = self.label(code)
        return code if name == code else f"{name} ({code})"


ADMIN_EDITS = {"create": "Thêm", "update": "Sửa", "delete": "Xóa"}


def admin_edit_labels(prefix: str, models) -> dict[str, str]:
    """The names of the audit actions an app's administration writes for its models
    ("<prefix>.<model>.create|update|delete" → "Thêm|Sửa|Xóa <the model's Vietnamese name>")."""
    return {
        f"{prefix}.{model._meta.model_name}.{verb}": f"{word} {model._meta.verbose_name}"
        for model in models
        for verb, word in ADMIN_EDITS.items()
    }


# name → Job (core.scheduler claims and enqueues due runs)
JOBS = Registry("Tác vụ định kỳ")
# name → MeasureSource (indicators.selectors.compute and indicators.formulas read every source)
INDICATOR_MEASURES = Registry("Nguồn số đo chỉ tiêu")
# name → TileSection (dashboard.selectors shows every section, in registration order)
DASHBOARD_TILES = Registry("Nhóm ô số liệu trên trang điều hành")
# name → message kind prefix ("feedback.") whose undelivered messages the IOC operators follow
# (exchange.selectors.undelivered), registered by the app whose records the IOC dispatches
IOC_MESSAGE_KINDS = Registry("Loại thư, tin nhắn điều phối viên IOC theo dõi")
# app label → CodeLabels: the names of the audit actions an app records (core.audit) and of the
# message kinds it sends through the outbox (exchange.outbox), shown by the administration
AUDIT_ACTIONS = CodeLabelRegistry("Tên các thao tác ghi nhật ký kiểm toán")
MESSAGE_KINDS = CodeLabelRegistry("Tên các loại thư, tin nhắn, thông báo")
# name → callable(question: str, context) -> KnowledgeAnswer | None: knowledge an app adds to the
# procedure assistant (the pest surveillance app's pest and disease questions), asked in registration
# order before the procedure catalog; the first answer that is not None is given. `context` is
# assistant.sources.Context (the detected kind, the conversation's procedure, the caller, the channel).
ANSWER_SOURCES = Registry("Nguồn trả lời của trợ lý")


@dataclass(frozen=True)
class KnowledgeAnswer:
    """What an answer source (ANSWER_SOURCES) returns: the apps below the assistant cannot name its own
    Answer, so they return this and the assistant turns it into one (assistant.sources.ask).

    `text`: the answer, plain Vietnamese, lines separated by "\n"; `links`: [{"label", "url"}] offered
    with it (site paths or absolute URLs); `source`: where the facts come from, said under the answer
    ("Danh mục sinh vật gây hại của Chi cục …"); `kind`: what was answered ("pest"), for the channels and
    the conversation; `confident`: False when the source asks the user to say more (which of several)."""

    text: str
    links: list[dict] = field(default_factory=list)
    source: str = ""
    kind: str = "knowledge"
    confident: bool = True


# Ranked procedure search for the layers below the one that provides it (the procedures API):
# "ranked" → callable(query, *, field_code, service_level, limit) -> procedure ids, best first.
PROCEDURE_SEARCH = Registry("Tìm kiếm thủ tục có xếp hạng")

# The data bus (exchange.bus, docs/data-bus.md). Services this installation provides on the bus:
# "<service code>.<operation code>" → handler(request, params, payload) → (HTTP status, JSON-able body);
# the gateway runs it for a call to a local subsystem. Replies to asynchronous calls: outbox message
# kind → handler(message, response), run after the call succeeded, in its own transaction.
BUS_HANDLERS = Registry("Dịch vụ trên trục liên thông do hệ thống này cung cấp")
BUS_REPLIES = Registry("Xử lý kết quả của lời gọi qua trục liên thông")

# Grants that open the administration (/quan-tri/) to officers who are not province administrators:
# name → "app_label.codename". The app's ModelAdmins decide what such an officer sees there.
ADMIN_GRANTS = Registry("Quyền mở trang quản trị cho cán bộ không phải quản trị tỉnh")

# The master person index (persons) for the layers below it: "possible same person" links beside a
# record of another app (a civil-status record, a dossier's applicant). name → callable(user, source,
# source_ids) -> {source_id: [PersonLink]}: for each id, the records of other sources linked to the same
# person that `user` may see (none for a user without the grant); the caller shows them.
PERSON_LINKS = Registry("Liên kết “có thể cùng một người” của chỉ mục định danh cá nhân")


@dataclass(frozen=True)
class PersonLink:
    """One record of another source linked to the same person (PERSON_LINKS). `summary` never holds an
    ID number, an insurance number or a phone number: the source's facility, the name and the birth year."""

    person_code: str
    source_label: str
    summary: str
    url: str
