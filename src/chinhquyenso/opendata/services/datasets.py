"""Datasets (bộ dữ liệu): drafted by an agency's officer, approved by its leader, then public;
withdrawn (rút) when it must no longer be published, keeping the record and its history.

Every action goes through opendata.workflow.DATASETS (read-only accounts refused, the row locked,
a DatasetVersion, an audit record). Metadata is checked here, before anything is written: text in
NFC without control characters, bounded lengths, dates inside core.params' range, a valid e-mail,
themes and licences from the vocabularies — a DomainError naming the field otherwise.

A dataset's `name` (its address, CKAN's package name) comes from the folded title when not given,
made unique with -2, -3…: two publishers creating "Danh sách trường học" at once both succeed (the
loser of the unique index tries the next suffix inside a savepoint)."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import UNSTORABLE_MESSAGE, fold, nfc, nfc_lines, unstorable_field
from chinhquyenso.core.workflow import actor_or_none, atomic_retrying, caller_of, idempotent, now
from chinhquyenso.opendata import scope
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Frequency, Licence, Tag, Theme
from chinhquyenso.opendata.workflow import DATASETS
from chinhquyenso.org.models import Agency

Status = DatasetStatus
EDITABLE = (Status.DRAFT, Status.SUBMITTED, Status.PUBLIC)

NAME_RULE = re.compile(r"^[a-z0-9_-]{2,100}$")
NAME_MAX = 100
NAME_ATTEMPTS = 50
# Fixed pages of the portal that come before /du-lieu-mo/<name>/ (opendata/urls.py): a dataset of that
# name would be unreachable.
RESERVED_NAMES = frozenset({"cong-bo", "huong-dan-api"})
WORDS = re.compile(r"[a-z0-9]+")
MAX_TITLE = 300
MAX_DESCRIPTION = 20_000
MAX_TAGS = 50
MAX_TAG = 100
MAX_THEMES = 20
MAX_REASON = 500

LABELS = {
    "title": "tên bộ dữ liệu",
    "name": "mã bộ dữ liệu",
    "description": "mô tả",
    "themes": "lĩnh vực",
    "tags": "từ khóa",
    "licence": "giấy phép",
    "frequency": "tần suất cập nhật",
    "temporal_start": "dữ liệu từ ngày",
    "temporal_end": "dữ liệu đến ngày",
    "spatial": "phạm vi địa lý",
    "spatial_code": "mã đơn vị hành chính",
    "contact_name": "đầu mối liên hệ",
    "contact_email": "thư điện tử liên hệ",
    "version": "phiên bản",
    "reason": "lý do",
}
TEXT_LIMITS = {"spatial": 200, "contact_name": 200, "version": 40}
# Keys a caller may pass in `fields`; others (CKAN's extras, owner_org…) are the calling layer's business.
FIELDS = (
    "title",
    "name",
    "description",
    "themes",
    "tags",
    "licence",
    "frequency",
    "temporal_start",
    "temporal_end",
    "spatial",
    "spatial_code",
    "contact_name",
    "contact_email",
    "version",
)
SCALAR_FIELDS = tuple(name for name in FIELDS if name not in ("themes", "tags"))


# ---------------------------------------------------------------- checks


def _no_control(value, field: str) -> None:
    """Control characters are refused, not silently dropped: a client that sends them has a bug the
    publisher should see, and what is published must be what was sent."""
    if isinstance(value, str) and unstorable_field(value) is not None:
        raise DomainError(f"{UNSTORABLE_MESSAGE} Trường “{LABELS.get(field, field)}”.", field)


def _text(value, field: str, *, limit: int, required: bool = False, lines: bool = False) -> str:
    if value is not None and not isinstance(value, str | int | float):
        raise DomainError(f"Trường “{LABELS.get(field, field)}” phải là văn bản.", field)
    _no_control(value, field)
    text = (nfc_lines if lines else nfc)(value)
    if required and not text:
        raise DomainError(f"Hãy nhập {LABELS.get(field, field)}.", field)
    if len(text) > limit:
        raise DomainError(f"Trường “{LABELS.get(field, field)}” dài quá {limit} ký tự.", field)
    return text


def _date(value, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return params.check_date(value, field)
    if not isinstance(value, str):
        raise DomainError(f"Trường “{LABELS[field]}”: ngày ghi theo dạng YYYY-MM-DD, ví dụ 2025-03-10.", field)
    return params.date(value[:10] if len(value) > 10 and value[10] == "T" else value, field)


def _list(value, field: str, limit: int) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list | tuple):
        raise DomainError(f"Trường “{LABELS[field]}” phải là một danh sách.", field)
    if len(value) > limit:
        raise DomainError(f"Một bộ dữ liệu có tối đa {limit} {LABELS[field]}.", field)
    return list(value)


def clean_name(value, field: str = "name") -> str:
    """A name as CKAN allows it: 2–100 characters, lower-case a–z, digits, - and _."""
    if not isinstance(value, str):
        raise DomainError("Mã bộ dữ liệu phải là văn bản.", field)
    _no_control(value, field)
    name = value.strip()
    if not NAME_RULE.match(name):
        raise DomainError(
            "Mã bộ dữ liệu dài 2–100 ký tự, chỉ gồm chữ thường không dấu (a–z), chữ số, dấu - và dấu _.", field
        )
    if name in RESERVED_NAMES:
        raise DomainError(f"Mã “{name}” là địa chỉ của một trang cố định của cổng; hãy chọn mã khác.", field)
    return name


def slug_of(title: str) -> str:
    """The name a title gives: its folded words joined by "-", cut at a word inside the limit (room
    left for a -NN suffix)."""
    words = WORDS.findall(fold(title))
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > NAME_MAX - 6:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][: NAME_MAX - 6]
    return slug if len(slug) >= 2 else f"du-lieu-{slug}".rstrip("-")


def clean_fields(fields: dict, *, partial: bool) -> dict:
    """The metadata in `fields`, checked and normalized: scalar values under their field names,
    `themes` as Theme rows and `tags` as NFC names. With `partial`, only the keys given; otherwise
    every field (missing ones get their defaults)."""
    if not isinstance(fields, dict):
        raise DomainError("Thông tin bộ dữ liệu không hợp lệ.", "fields")
    given = {key: fields[key] for key in FIELDS if key in fields}
    if not partial:
        for key in FIELDS:
            given.setdefault(key, None)
    cleaned: dict = {}
    if "title" in given:
        cleaned["title"] = _text(given["title"], "title", limit=MAX_TITLE, required=True)
    if "name" in given and given["name"] not in (None, ""):
        cleaned["name"] = clean_name(given["name"])
    if "description" in given:
        cleaned["description"] = _text(given["description"], "description", limit=MAX_DESCRIPTION, lines=True)
    for key, limit in TEXT_LIMITS.items():
        if key in given:
            cleaned[key] = _text(given[key], key, limit=limit)
    if "spatial_code" in given:
        code = _text(given["spatial_code"], "spatial_code", limit=10)
        if code and not (code.isascii() and code.isdigit()):
            raise DomainError(
                "Mã đơn vị hành chính chỉ gồm chữ số (mã tỉnh hoặc mã xã), tối đa 10 chữ số.", "spatial_code"
            )
        cleaned["spatial_code"] = code
    if "contact_email" in given:
        email = _text(given["contact_email"], "contact_email", limit=254)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise DomainError("Thư điện tử liên hệ không hợp lệ.", "contact_email") from None
        cleaned["contact_email"] = email
    if "frequency" in given:
        frequency = given["frequency"] or Frequency.IRREG
        if frequency not in Frequency.values:
            raise DomainError("Tần suất cập nhật không có trong danh mục.", "frequency")
        cleaned["frequency"] = frequency
    if "licence" in given:
        cleaned["licence"] = _licence(given["licence"])
    for key in ("temporal_start", "temporal_end"):
        if key in given:
            cleaned[key] = _date(given[key], key)
    if "themes" in given:
        cleaned["themes"] = _themes(given["themes"])
    if "tags" in given:
        cleaned["tags"] = _tag_names(given["tags"])
    return cleaned


def _licence(value) -> Licence:
    if isinstance(value, Licence):
        return value
    if value in (None, ""):
        licence = Licence.objects.filter(is_default=True).first() or Licence.objects.first()
        if licence is None:
            raise DomainError("Chưa có giấy phép nào trong danh mục; hãy nạp danh mục giấy phép.", "licence")
        return licence
    code = _text(value, "licence", limit=40)
    licence = Licence.objects.filter(code=code).first()
    if licence is None:
        raise DomainError(f"Giấy phép “{code}” không có trong danh mục.", "licence")
    return licence


def _themes(value) -> list[Theme]:
    codes = []
    for item in _list(value, "themes", MAX_THEMES):
        code = item.code if isinstance(item, Theme) else _text(item, "themes", limit=60)
        if code and code not in codes:
            codes.append(code)
    found = {theme.code: theme for theme in Theme.objects.filter(code__in=codes)}
    missing = [code for code in codes if code not in found]
    if missing:
        raise DomainError(f"Lĩnh vực “{missing[0]}” không có trong danh mục.", "themes")
    return [found[code] for code in codes]


def _tag_names(value) -> list[str]:
    names: list[str] = []
    for item in _list(value, "tags", MAX_TAGS):
        if isinstance(item, dict):  # CKAN writes tags as [{"name": …}]
            item = item.get("name")
        name = _text(item, "tags", limit=MAX_TAG)
        if name and name not in names:
            names.append(name)
    return names


def _check_period(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and start > end:
        raise DomainError("Ngày bắt đầu của dữ liệu phải trước ngày kết thúc.", "temporal_end")


def _reason(value) -> str:
    return _text(value, "reason", limit=MAX_REASON, required=True)


# ---------------------------------------------------------------- search words and names


def search_words(dataset: Dataset) -> str:
    """Dataset.search_text: " <title words> | <the other words> " — folded, so "nong nghiep" and
    "Nông nghiệp" meet; the bar lets a search rank title matches first; the spaces at both ends let
    it match from the start of a word."""
    title = " ".join(WORDS.findall(fold(dataset.title)))
    others = " ".join(
        [
            dataset.description,
            " ".join(dataset.tags.values_list("name", flat=True)),
            dataset.agency.name,
            dataset.agency.code,
            " ".join(dataset.themes.values_list("name", flat=True)),
        ]
    )
    return f" {title} | {' '.join(WORDS.findall(fold(others)))} "


def _tags(names: list[str]) -> list[Tag]:
    """The Tag rows for these names, created once: a keyword typed again reuses its row."""
    tags = []
    for name in names:
        tag, _ = Tag.objects.get_or_create(name=name, defaults={"folded": fold(name)})
        tags.append(tag)
    return tags


def _set_relations(dataset: Dataset, cleaned: dict) -> bool:
    """Apply themes and tags; True when either changed."""
    changed = False
    if "themes" in cleaned:
        wanted = {theme.pk for theme in cleaned["themes"]}
        if set(dataset.themes.values_list("pk", flat=True)) != wanted:
            dataset.themes.set(cleaned["themes"])
            changed = True
    if "tags" in cleaned:
        tags = _tags(cleaned["tags"])
        if set(dataset.tags.values_list("pk", flat=True)) != {tag.pk for tag in tags}:
            dataset.tags.set(tags)
            changed = True
    return changed


def _insert_with_free_name(dataset: Dataset, *, explicit: bool) -> None:
    """Insert the dataset under its name, or the first free name-2, name-3… when it is not given
    explicitly. Each try is a savepoint: on PostgreSQL an insert racing another transaction's same name
    waits for it and then fails on the unique index, and the next try sees the winner's name."""
    base = dataset.name
    for _ in range(NAME_ATTEMPTS):
        if not explicit:
            dataset.name = _free_name(base)
        try:
            with transaction.atomic():
                dataset.save(force_insert=True)
            return
        except IntegrityError:
            dataset.pk = None
            if not _name_taken(dataset.name):
                raise  # another constraint (one generated dataset per generator and agency)
            if explicit:
                raise DomainError(f"Mã bộ dữ liệu “{base}” đã được dùng; hãy chọn mã khác.", "name") from None
    raise DomainError("Không tìm được mã bộ dữ liệu còn trống; hãy tự đặt mã.", "name")


def _free_name(base: str) -> str:
    taken = set(Dataset.objects.filter(name__startswith=base).values_list("name", flat=True)) | RESERVED_NAMES
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _name_taken(name: str, exclude_pk: int | None = None) -> bool:
    return Dataset.objects.filter(name=name).exclude(pk=exclude_pk).exists()


def _agency(agency) -> Agency:
    if isinstance(agency, Agency):
        return agency
    found = Agency.objects.filter(pk=agency).first() if str(agency).isdigit() else None
    if found is None:
        raise DomainError("Cơ quan công bố không có trong danh mục.", "agency")
    return found


def _payload(agency_id: int, fields: dict, submit: bool) -> dict:
    """What identifies a create for its idempotency key (JSON: dates and rows as text)."""
    given = {}
    for key in FIELDS:
        if key in fields:
            value = fields[key]
            if isinstance(value, list | tuple):
                value = [getattr(item, "code", item) for item in value]
            given[key] = str(value) if isinstance(value, dt.date) else getattr(value, "code", value)
    return {"agency": agency_id, "fields": given, "submit": bool(submit)}


# ---------------------------------------------------------------- create


def _build(agency: Agency, cleaned: dict, *, actor, generator: str = "") -> tuple[Dataset, bool]:
    """The unsaved dataset, and whether its name was given (else it comes from the title)."""
    _check_period(cleaned.get("temporal_start"), cleaned.get("temporal_end"))
    scalar = {key: cleaned[key] for key in SCALAR_FIELDS if key in cleaned and key != "name"}
    scalar.setdefault("licence", _licence(None))
    explicit = "name" in cleaned
    return Dataset(
        agency=agency,
        name=cleaned["name"] if explicit else slug_of(cleaned["title"]),
        created_by=actor_or_none(actor),
        generator=generator,
        **scalar,
    ), explicit


def _insert(dataset: Dataset, explicit: bool, cleaned: dict, *, actor, at, action: str = "create") -> Dataset:
    _insert_with_free_name(dataset, explicit=explicit)
    _set_relations(dataset, cleaned)
    dataset.search_text = search_words(dataset)
    Dataset.objects.filter(pk=dataset.pk).update(search_text=dataset.search_text)
    DATASETS.created(dataset, actor=actor, action=action, at=at)
    return dataset


def create_dataset(*, actor, agency, fields: dict, submit: bool = False, key: str | None = None) -> Dataset:
    """A new dataset of `agency`, a draft (or submitted for the leader's approval with `submit`),
    by an officer whose scope holds the agency. `key`: an idempotency key (a retry returns the first
    dataset, marked `replayed`)."""
    agency = _agency(agency)
    DATASETS.guard(actor)
    scope.require_member(actor, agency.pk)

    def prepare():
        return clean_fields(fields, partial=False)

    def create(cleaned):
        at = now()
        dataset, explicit = _build(agency, cleaned, actor=actor)
        _insert(dataset, explicit, cleaned, actor=actor, at=at)
        if submit:
            DATASETS.transition(dataset, actor=actor, action="submit", to_status=Status.SUBMITTED, at=at)
        return dataset

    return idempotent(
        "opendata.create_dataset",
        key=key or "",
        caller=caller_of(actor),
        payload=_payload(agency.pk, fields, submit),
        create=create,
        prepare=prepare,
    )


def publish_generated(*, agency, generator: str, fields: dict) -> Dataset:
    """The dataset the platform generates from its own data (opendata.live), as the system: created
    public (the province's decision listing its open-data catalogue is its approval) when missing,
    its metadata updated when it changed. A withdrawn one stays withdrawn (the caller skips it).
    One dataset per generator: when the publisher is reorganized (a new version of the committee,
    another agency issuing the bulletin), the same dataset — its name, history and links — moves to
    the new publisher, recorded as a version."""
    agency = _agency(agency)
    generator = _text(generator, "generator", limit=60, required=True)
    cleaned = clean_fields(fields, partial=False)

    def body():
        at = now()
        existing = Dataset.objects.select_for_update().filter(generator=generator).order_by("pk").first()
        if existing is None:
            dataset, explicit = _build(agency, cleaned, actor=None, generator=generator)
            dataset.status, dataset.published_at = Status.PUBLIC, at
            return _insert(dataset, explicit, cleaned, actor=None, at=at, action="publish_generated")
        if existing.status == Status.WITHDRAWN:
            return existing
        return _apply(existing, {**cleaned, "agency": agency}, actor=None, at=at, action="update")

    return atomic_retrying(body)


# ---------------------------------------------------------------- update


def _apply(dataset: Dataset, cleaned: dict, *, actor, at, action: str) -> Dataset:
    """Write the cleaned metadata to the locked dataset; a version and an audit record only when
    something changed."""
    changes = {}
    if "agency" in cleaned and cleaned["agency"].pk != dataset.agency_id:
        changes["agency"] = cleaned["agency"]
    for key in SCALAR_FIELDS:
        if key not in cleaned:
            continue
        value = cleaned[key]
        if key == "name":
            if value != dataset.name and _name_taken(value, dataset.pk):
                raise DomainError(f"Mã bộ dữ liệu “{value}” đã được dùng; hãy chọn mã khác.", "name")
        if key == "licence":
            if value.pk != dataset.licence_id:
                changes["licence"] = value
            continue
        if getattr(dataset, key) != value:
            changes[key] = value
    _check_period(
        changes.get("temporal_start", dataset.temporal_start), changes.get("temporal_end", dataset.temporal_end)
    )
    related = _set_relations(dataset, cleaned)
    if not changes and not related:
        return dataset
    for key, value in changes.items():
        setattr(dataset, key, value)
    changed = sorted(changes) + [key for key in ("themes", "tags") if key in cleaned and related]
    search_text = search_words(dataset)
    DATASETS.transition(
        dataset,
        actor=actor,
        action=action,
        to_status=dataset.status,
        at=at,
        changes={**changes, "search_text": search_text},
        audit_extra={"fields": sorted(set(changed))},
    )
    return dataset


@DATASETS.action
def update_dataset(dataset: Dataset, *, actor, fields: dict, partial: bool = True) -> Dataset:
    """Change a dataset's metadata. A public dataset stays public (the change is published at once,
    as a new version); a withdrawn one is not edited."""
    cleaned = clean_fields(fields, partial=partial)
    dataset, at = DATASETS.begin(dataset, actor)
    scope.require_member(actor, dataset.agency_id)
    DATASETS.require(dataset, *EDITABLE, action="sửa")
    return _apply(dataset, cleaned, actor=actor, at=at, action="update")


# ---------------------------------------------------------------- statuses


@DATASETS.action
def submit(dataset: Dataset, *, actor) -> Dataset:
    """The draft goes to the agency's leader for approval."""
    dataset, at = DATASETS.begin(dataset, actor)
    scope.require_member(actor, dataset.agency_id)
    DATASETS.require(dataset, Status.DRAFT, action="trình duyệt")
    DATASETS.transition(dataset, actor=actor, action="submit", to_status=Status.SUBMITTED, at=at)
    return dataset


@DATASETS.action
def approve(dataset: Dataset, *, actor) -> Dataset:
    """The leader publishes the submitted dataset."""
    dataset, at = DATASETS.begin(dataset, actor)
    scope.require_leader(actor, dataset.agency_id)
    DATASETS.require(dataset, Status.SUBMITTED, action="duyệt công bố")
    DATASETS.transition(
        dataset,
        actor=actor,
        action="approve",
        to_status=Status.PUBLIC,
        at=at,
        changes={"published_at": dataset.published_at or at},
    )
    return dataset


@DATASETS.action
def return_to_draft(dataset: Dataset, *, actor, reason: str) -> Dataset:
    """The leader sends the submitted dataset back to its drafters, saying why."""
    reason = _reason(reason)
    dataset, at = DATASETS.begin(dataset, actor)
    scope.require_leader(actor, dataset.agency_id)
    DATASETS.require(dataset, Status.SUBMITTED, action="trả lại")
    DATASETS.transition(dataset, actor=actor, action="return", to_status=Status.DRAFT, at=at, note=reason)
    return dataset


@DATASETS.action
def withdraw(dataset: Dataset, *, actor, reason: str) -> Dataset:
    """The dataset is no longer published (its page says so and why); the record and its versions stay."""
    reason = _reason(reason)
    dataset, at = DATASETS.begin(dataset, actor)
    scope.require_withdrawer(actor, dataset.agency_id)
    DATASETS.require(dataset, Status.DRAFT, Status.SUBMITTED, Status.PUBLIC, action="rút")
    DATASETS.transition(
        dataset,
        actor=actor,
        action="withdraw",
        to_status=Status.WITHDRAWN,
        at=at,
        changes={"withdrawn_reason": reason},
        note=reason,
    )
    return dataset
