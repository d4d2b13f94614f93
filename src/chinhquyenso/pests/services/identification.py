"""Farmers' photo identification requests: the answer from several photos, abstention, the experts'
confirmations (stored as labels), and the export of the confirmed set for training the next model.

    submit(*, photos, farmer=None, commune=None, crop=None, client_id=None, phone="") -> Identification
    send_to_expert(identification) -> Identification
    confirm(*, actor, identification, labels: {photo id: organism code | "none"}) -> Identification
    export_labels(directory, *, actor) -> dict

**One answer from several photos.** A farmer photographs one field several times (a leaf, a stem, the
insects on the water). The identifier gives each photo a probability per class; the request's answer
is the class with the highest *average* probability over the photos. Averaging — rather than taking
the most confident photo, or a vote — lets a photo that shows nothing in particular (a blurred one, a
wide view) pull every class towards uncertainty without overriding the photos that do show the pest:
one sharp photo of rầy nâu at 0.95 and one empty photo at 0.40/0.30/0.30 give 0.675 for rầy nâu, while
two photos that disagree lower the confidence and lead to abstention. The top 3 average classes with
their confidence are kept (`Identification.top`), and each photo's own top 3 (`IdentificationPhoto.top`,
what the per-species accuracy is measured on).

**Abstention.** The service answers only when the best average probability reaches
CQS["PESTS_ABSTAIN_BELOW"] (0.6 by default). "No pest or disease" must reach at least
NONE_ABSTAIN_BELOW (0.8), never less than the general threshold: telling a farmer that a field is clean
when it is not costs a treatment window, so that answer needs more certainty. A best class that is not an
organism of the catalog (a class list out of step with the catalog) is never answered either. Below
that, the request is ABSTAINED and sent to an expert, and the farmer is told so plainly. With no model
configured (CQS_PESTS_MODEL_PATH empty) — or a model that cannot be loaded, which is logged for the
operator — every request goes to an expert.

**Photos.** 1–MAX_PHOTOS JPEG or PNG photos, each checked like every upload (core.uploads: type by
content, size, pixel count from the header) and decoded once; the GPS position in EXIF (and XMP) is
removed before storing, the rest of EXIF (orientation) kept, as for citizen feedback photos. The
stored files are granted to the farmer's account when they have one; otherwise they are read only
through the request's private link (its `public_id`) and by experts (pests.confirm_identification).

**Experts.** Officers with pests.confirm_identification label each photo (an organism or "không có
sinh vật gây hại"), per photo or all at once; when every photo is labelled the request is CONFIRMED,
its answer is the label most photos carry (a pest before "none"), audited `pests.identify.confirm`, and
the farmer is told: an in-app notice (and the channels they consented to) when they have an account,
an SMS `pests.identify.answer` to the phone they gave when they ticked "nhắn tin cho tôi" — the phone
is cleared as soon as that message is queued. A later correction is audited too and tells the farmer
again only when the answer changes.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import shutil
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.core import audit, uploads
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.text import nfc
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.core.workflow import Workflow, caller_of, idempotent
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.consent import active_addresses, normalize_phone, sms_text, tell_citizen
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.pests import access
from chinhquyenso.pests.identify import NONE, ModelConfigurationError, get_identifier
from chinhquyenso.pests.models import Crop, Identification, IdentificationPhoto, Organism

log = logging.getLogger(__name__)

MAX_PHOTOS = 5
TOP = 3
NONE_ABSTAIN_BELOW = 0.8
NONE_LABEL = "Không có sinh vật gây hại"
ANSWER_KIND = "pests.identify.answer"
NO_MODEL = "no-model"  # Identification.model_version when no identifier was configured or usable


def abstain_below() -> float:
    return float(settings.CQS.get("PESTS_ABSTAIN_BELOW", 0.6))


# ---------------------------------------------------------------------- photos


def _photo_bytes(photo, number: int) -> bytes:
    limit = settings.CQS["UPLOAD_MAX_BYTES"]
    if (getattr(photo, "size", None) or 0) > limit:
        raise DomainError(f"Ảnh thứ {number} vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).", "photos")
    if hasattr(photo, "read"):
        if hasattr(photo, "seek"):
            photo.seek(0)
        data = photo.read(limit + 1)
    else:
        data = bytes(photo)
    if len(data) > limit:
        raise DomainError(f"Ảnh thứ {number} vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).", "photos")
    return data


def clean_photo(data: bytes, number: int = 1) -> bytes:
    """The photo to store (core.uploads.clean_photo: JPEG or PNG by its bytes, decodable, GPS removed;
    a photo without GPS kept byte for byte), its refusal naming which photo of the request it was."""
    try:
        return uploads.clean_photo(data, field="photos")
    except DomainError as error:
        raise DomainError(f"Ảnh thứ {number}: {error.message[0].lower()}{error.message[1:]}", "photos") from None


# ---------------------------------------------------------------------- one answer from several photos


def aggregate(per_photo: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
    """The classes by their average probability over the photos, best first (module doc: why the mean)."""
    if not per_photo:
        return []
    totals: dict[str, float] = {}
    for prediction in per_photo:
        for code, probability in prediction:
            totals[code] = totals.get(code, 0.0) + probability
    return sorted(((code, total / len(per_photo)) for code, total in totals.items()), key=lambda cp: (-cp[1], cp[0]))


def top_list(prediction: list[tuple[str, float]], n: int = TOP) -> list[dict]:
    return [{"organism": code, "confidence": round(probability, 4)} for code, probability in prediction[:n]]


@dataclass(frozen=True)
class Decision:
    status: str
    answer: Organism | None  # None with ANSWERED: no pest or disease on the photos
    confidence: float | None
    abstained: bool


def decide(aggregated: list[tuple[str, float]], organisms: dict[str, Organism]) -> Decision:
    """Answer or abstain (module doc)."""
    if not aggregated:
        return Decision(Identification.Status.ABSTAINED, None, None, True)
    code, confidence = aggregated[0]
    bar = max(abstain_below(), NONE_ABSTAIN_BELOW) if code == NONE else abstain_below()
    known = code == NONE or code in organisms
    if not known:
        log.warning("Mô hình nhận dạng trả lời lớp “%s” không có trong danh mục; chuyển chuyên gia.", code)
    if confidence < bar or not known:
        return Decision(Identification.Status.ABSTAINED, None, confidence, True)
    return Decision(Identification.Status.ANSWERED, organisms.get(code), confidence, False)


def _organisms(codes) -> dict[str, Organism]:
    return {o.code: o for o in Organism.objects.filter(code__in=set(codes) - {NONE}, active=True)}


# ---------------------------------------------------------------------- submit


@dataclass(frozen=True)
class _Prepared:
    photos: list[bytes]
    per_photo: list[list[tuple[str, float]]]
    version: str
    seconds: float
    phone: str


def _predict(photos: list[bytes]) -> tuple[list[list[tuple[str, float]]], str, float]:
    try:
        identifier = get_identifier()
    except ModelConfigurationError as error:  # the operator's mistake: logged, the farmer goes to an expert
        log.error("Mô hình nhận dạng sâu bệnh chưa dùng được: %s", error)
        return [], NO_MODEL, 0.0
    if identifier is None:
        return [], NO_MODEL, 0.0
    started = time.perf_counter()
    try:
        per_photo = identifier.predict(photos)
    except ModelConfigurationError as error:
        log.error("Mô hình nhận dạng sâu bệnh chưa dùng được: %s", error)
        return [], NO_MODEL, 0.0
    except DomainError:
        raise  # a photo refused (already checked by clean_photo: not expected here)
    except Exception:  # ONNX Runtime failing at run time must not lose the farmer's photos
        log.exception("Mô hình nhận dạng sâu bệnh gặp lỗi khi chạy; chuyển chuyên gia.")
        return [], NO_MODEL, 0.0
    return per_photo, identifier.version, time.perf_counter() - started


def _check_place(commune, crop) -> None:
    if commune is not None and (not isinstance(commune, Agency) or commune.kind != AgencyKind.COMMUNE_COMMITTEE):
        raise DomainError("Hãy chọn xã, phường trong danh sách.", "commune")
    if commune is not None and not commune.is_current:
        raise DomainError("Xã, phường này không còn; hãy chọn đơn vị hiện nay.", "commune")
    if crop is not None and not isinstance(crop, Crop):
        raise DomainError("Hãy chọn cây trồng trong danh sách.", "crop")


def submit(
    *,
    photos,
    farmer=None,
    commune: Agency | None = None,
    crop: Crop | None = None,
    client_id=None,
    phone: str = "",
) -> Identification:
    """Store a request with its photos and answer it (or abstain). Idempotent on `client_id` (a UUID the
    form carries): sending the same form again returns the first request. `phone`: only when the farmer
    asked to be told by SMS (module doc)."""
    photos = list(photos or [])
    if not photos:
        raise DomainError("Hãy chụp hoặc chọn ít nhất một ảnh.", "photos")
    if len(photos) > MAX_PHOTOS:
        raise DomainError(f"Chỉ gửi tối đa {MAX_PHOTOS} ảnh cho một lần nhận dạng.", "photos")
    _check_place(commune, crop)
    if client_id is not None:
        try:
            client_id = uuid.UUID(str(client_id))
        except ValueError:
            raise DomainError("Mã gửi trên máy không hợp lệ.", "client_id") from None
    raw = [_photo_bytes(photo, number) for number, photo in enumerate(photos, start=1)]
    phone = normalize_phone(phone, "phone") if nfc(phone or "") else ""
    payload = {
        "photos": [hashlib.sha256(data).hexdigest() for data in raw],
        "commune": getattr(commune, "pk", None),
        "crop": getattr(crop, "pk", None),
        "phone": hashlib.sha256(phone.encode()).hexdigest() if phone else "",
    }

    def prepare() -> _Prepared:  # outside the transaction: decoding and the model take time
        cleaned = [clean_photo(data, number) for number, data in enumerate(raw, start=1)]
        per_photo, version, seconds = _predict(cleaned)
        return _Prepared(cleaned, per_photo, version, seconds, phone)

    def create(prepared: _Prepared) -> Identification:
        aggregated = aggregate(prepared.per_photo)
        organisms = _organisms(code for code, _ in aggregated)
        decision = decide(aggregated, organisms)
        identification = Identification.objects.create(
            public_id=uuid.uuid4(),
            client_id=client_id,
            farmer=farmer if getattr(farmer, "pk", None) else None,
            commune=commune,
            crop=crop,
            status=decision.status,
            answer=decision.answer,
            confidence=decision.confidence,
            top=top_list(aggregated),
            model_version=prepared.version,
            seconds=round(prepared.seconds, 4),
            sent_to_expert=decision.abstained,
            abstained=decision.abstained,
            phone=prepared.phone,
        )
        for number, data in enumerate(prepared.photos, start=1):
            stored = store_upload(data, original_name=f"anh-{number}", field="photos", user=farmer)
            IdentificationPhoto.objects.create(
                identification=identification,
                file=stored,
                top=top_list(prepared.per_photo[number - 1]) if prepared.per_photo else [],
            )
        return identification

    return idempotent(
        "pests.identify",
        key=str(client_id) if client_id else "",
        caller=caller_of(farmer, "anonymous"),
        payload=payload,
        prepare=prepare,
        create=create,
    )


def send_to_expert(identification: Identification) -> Identification:
    """The farmer asks for an expert even though the model answered (the result page's button)."""

    def run():
        locked = Identification.objects.select_for_update().get(pk=identification.pk)
        if not locked.sent_to_expert and locked.status != Identification.Status.CONFIRMED:
            locked.sent_to_expert = True
            locked.save(update_fields=["sent_to_expert"])
        return locked

    with transaction.atomic():
        locked = run()
    identification.sent_to_expert = locked.sent_to_expert
    return identification


# ---------------------------------------------------------------------- experts


def _snapshot(identification: Identification) -> dict:
    return {
        "status": identification.status,
        "answer": identification.answer.code if identification.answer_id else None,
        "sent_to_expert": identification.sent_to_expert,
    }


IDENTIFICATIONS = Workflow(
    Identification,
    noun="yêu cầu nhận dạng",
    audit_prefix="pests.identify",
    snapshot=_snapshot,
    agency_of=lambda identification: identification.commune_id,
    guard=refuse_read_only,
    select_related=("answer",),
)


def label_code(photo: IdentificationPhoto) -> str | None:
    """A photo's expert label as a class code ("none" for no pest), or None while unlabelled."""
    if photo.label_none:
        return NONE
    return photo.label.code if photo.label_id else None


def _expert_answer(codes: list[str]) -> str:
    """The label most photos carry; a pest before "none" (a field with a pest on one photo has a pest)."""
    pests = [code for code in codes if code != NONE]
    if not pests:
        return NONE
    counts = Counter(pests)
    best = max(counts.values())
    return next(code for code in pests if counts[code] == best)  # ties: the first photo's


def result_path(identification: Identification) -> str:
    return reverse("pests_public:identification", args=[identification.public_id])


def _tell_farmer(identification: Identification, at) -> None:
    name = identification.answer.name if identification.answer_id else NONE_LABEL.lower()
    code = identification.answer.code if identification.answer_id else NONE
    link = result_path(identification)
    if identification.answer_id:
        body = (
            f"Chuyên gia bảo vệ thực vật đã xác nhận ảnh bạn gửi: {identification.answer.name}. "
            "Xem cách phòng trừ tại trang kết quả."
        )
    else:
        body = "Chuyên gia bảo vệ thực vật đã xem ảnh bạn gửi: không thấy sinh vật gây hại."
    sms = f"Chuyen gia BVTV tra loi anh cua ban: {name}. Xem: {outbox.absolute_url(link)}"
    dedup = f"{ANSWER_KIND}:{identification.pk}:{code}"
    subject = "Chuyên gia đã trả lời ảnh nhận dạng sâu bệnh của bạn"
    told_sms = set()
    if identification.farmer_id:
        farmer = identification.farmer
        tell_citizen(
            farmer,
            kind=ANSWER_KIND,
            subject=subject,
            body=body,
            sms=sms,
            link=link,
            source=identification,
            agency_id=identification.commune_id,
            dedup=dedup,
            at=at,
        )
        if getattr(farmer, "is_citizen", False):
            told_sms = {address for channel, address in active_addresses(farmer).items() if channel == "sms"}
    if identification.phone and identification.phone not in told_sms:
        outbox.enqueue(
            channel="sms",
            recipient=identification.phone,
            kind=ANSWER_KIND,
            subject=subject,
            body=sms_text(sms),
            source=identification,
            agency_id=identification.commune_id,
            dedup_key=f"{dedup}:sms-phone",
            at=at,
        )


def confirm(*, actor, identification: Identification, labels: dict, at=None) -> Identification:
    """Store an expert's labels: {photo id: organism code or "none"} for some or all photos of the request
    (module doc). DomainError naming the photo when a code is not in the catalog."""
    if not access.can_confirm(actor):
        raise PermissionDenied("Chỉ chuyên gia được phân quyền mới xác nhận ảnh nhận dạng.")
    if not labels:
        raise DomainError("Hãy chọn kết quả cho ít nhất một ảnh.", "labels")
    wanted = {}
    for photo_id, code in labels.items():
        code = nfc(str(code or ""))
        if not code:
            continue
        wanted[int(photo_id)] = code
    if not wanted:
        raise DomainError("Hãy chọn kết quả cho ít nhất một ảnh.", "labels")
    organisms = {o.code: o for o in Organism.objects.filter(code__in=set(wanted.values()) - {NONE}, active=True)}
    for photo_id, code in wanted.items():
        if code != NONE and code not in organisms:
            raise DomainError(f"“{code}” không có trong danh mục sinh vật gây hại.", f"label-{photo_id}")

    @IDENTIFICATIONS.action
    def run(identification):
        locked, now = IDENTIFICATIONS.begin(identification, actor, at)
        photos = {p.pk: p for p in locked.photos.select_related("label").order_by("pk")}
        unknown = set(wanted) - set(photos)
        if unknown:
            raise DomainError("Ảnh không thuộc yêu cầu này.", f"label-{min(unknown)}")
        changed = {}
        for photo_id, code in wanted.items():
            photo = photos[photo_id]
            if label_code(photo) == code:
                continue
            photo.label = organisms.get(code)
            photo.label_none = code == NONE
            photo.labelled_by = actor
            photo.labelled_at = now
            photo.save(update_fields=["label", "label_none", "labelled_by", "labelled_at"])
            changed[str(photo_id)] = code
        codes = [label_code(p) for p in photos.values()]
        complete = all(codes)
        previous_answer = locked.answer_id if locked.status == Identification.Status.CONFIRMED else "?"
        to_status = Identification.Status.CONFIRMED if complete else locked.status
        updates = {}
        if complete:
            answer = _expert_answer(codes)
            updates["answer"] = organisms.get(answer) or (Organism.objects.get(code=answer) if answer != NONE else None)
        if not changed and not (complete and locked.status != Identification.Status.CONFIRMED):
            return locked  # nothing new: no audit record, nobody told again
        IDENTIFICATIONS.transition(
            locked,
            actor=actor,
            action="confirm",
            to_status=to_status,
            at=now,
            changes=updates,
            audit_extra={"labels": changed, "photos": len(photos), "labelled": sum(1 for c in codes if c)},
        )
        if complete and locked.answer_id != previous_answer:
            _tell_farmer(locked, now)
            if locked.phone:
                locked.phone = ""  # used once: not kept after the answer is queued
                locked.save(update_fields=["phone"])
        return locked

    return run(identification)


# ---------------------------------------------------------------------- export of the confirmed set

README = """# Ảnh sâu bệnh đã được chuyên gia xác nhận

Xuất lúc {at} từ hệ thống Chính quyền số ({province}).

Cấu trúc thư mục phân loại ảnh chuẩn (ImageFolder): `<mã lớp>/<sha256>.<đuôi>` — mỗi thư mục con là
một lớp, tên tệp là mã SHA-256 của nội dung ảnh (một ảnh gửi nhiều lần chỉ có một tệp). Lớp `none`:
chuyên gia xác nhận không có sinh vật gây hại. Mã lớp là mã trong danh mục sinh vật gây hại; danh sách
lớp của mô hình mới là các thư mục con theo thứ tự chữ cái (như `torchvision.datasets.ImageFolder`).

`labels.csv`: mỗi ảnh một dòng — đường dẫn, mã lớp, tên lớp, SHA-256, thời điểm xác nhận, phiên bản
mô hình đã trả lời và lớp mô hình đó xếp đầu cho ảnh (để so sánh mô hình cũ).

Ảnh đã được xóa vị trí GPS khi nhận. Không có thông tin người gửi.

## Số ảnh theo lớp

| mã lớp | tên | số ảnh |
| --- | --- | ---: |
{rows}
| | **tổng** | **{total}** |
{notes}"""


def _writable_directory(directory) -> Path:
    root = Path(directory)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise DomainError(
            f"Thư mục “{root}” đã có nội dung; hãy chọn thư mục mới hoặc rỗng để không lẫn với lần xuất trước.",
            "directory",
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DomainError(f"Không tạo được thư mục “{root}”: {error.strerror or error}.", "directory") from None
    return root


def export_labels(directory, *, actor=None) -> dict:
    """Write the confirmed photos in the image-classification layout (README above) into `directory`
    (new or empty), audited `pests.identify.export`. Photos whose identical bytes carry different labels
    are left out (counted as conflicts); a file missing from storage is skipped."""
    root = _writable_directory(directory)
    photos = (
        IdentificationPhoto.objects.filter(labelled_at__isnull=False)
        .filter(Q(label__isnull=False) | Q(label_none=True))
        .select_related("file", "label", "identification")
    )
    by_content: dict[str, list[IdentificationPhoto]] = {}
    for photo in photos.order_by("labelled_at", "pk"):
        by_content.setdefault(photo.file.sha256, []).append(photo)
    names = {NONE: NONE_LABEL}
    rows, counts, conflicts, skipped = [], Counter(), 0, 0
    for sha256, group in by_content.items():
        codes = {label_code(p) for p in group}
        if len(codes) > 1:
            conflicts += len(group)
            continue
        photo = group[-1]  # the latest confirmation of these bytes
        code = label_code(photo)
        if photo.label_id:
            names[code] = photo.label.name
        extension = photo.file.file.name.rsplit(".", 1)[-1] if "." in photo.file.file.name else "jpg"
        relative = f"{code}/{sha256}.{extension}"
        target = root / code
        target.mkdir(exist_ok=True)
        try:
            with photo.file.file.open("rb") as source, (root / relative).open("wb") as out:
                shutil.copyfileobj(source, out)
        except OSError:
            skipped += 1
            log.warning("Ảnh %s không còn trong kho lưu trữ; bỏ qua khi xuất.", sha256[:16])
            (root / relative).unlink(missing_ok=True)
            continue
        top = photo.top[0] if photo.top else {}
        rows.append(
            {
                "path": relative,
                "class": code,
                "class_name": names[code],
                "sha256": sha256,
                "labelled_at": timezone.localtime(photo.labelled_at).isoformat(timespec="seconds"),
                "model_version": photo.identification.model_version if photo.top else "",
                "model_top1": top.get("organism", ""),
                "model_confidence": top.get("confidence", ""),
            }
        )
        counts[code] += 1
    rows.sort(key=lambda row: row["path"])
    with (root / "labels.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else _CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    at = timezone.localtime()
    notes = []
    if conflicts:
        notes.append(f"\nBỏ qua {conflicts} ảnh: cùng nội dung nhưng chuyên gia gán nhãn khác nhau.")
    if skipped:
        notes.append(f"\nBỏ qua {skipped} ảnh không còn trong kho lưu trữ.")
    (root / "README.md").write_text(
        README.format(
            at=at.strftime("%H:%M ngày %d/%m/%Y"),
            province=settings.CQS.get("PROVINCE_NAME", ""),
            rows="\n".join(f"| {code} | {names[code]} | {counts[code]} |" for code in sorted(counts)),
            total=sum(counts.values()),
            notes="\n".join(notes),
        ),
        encoding="utf-8",
    )
    result = {
        "directory": str(root),
        "photos": sum(counts.values()),
        "classes": dict(sorted(counts.items())),
        "conflicts": conflicts,
        "skipped": skipped,
    }
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="pests.identify.export",
            object_type=IdentificationPhoto._meta.label,
            after={k: v for k, v in result.items() if k != "directory"},
            at=at,
        )
    return result


_CSV_FIELDS = [
    "path",
    "class",
    "class_name",
    "sha256",
    "labelled_at",
    "model_version",
    "model_top1",
    "model_confidence",
]
