"""Online submission drafts: every step is saved before the next is shown,
so what the citizen typed or uploaded survives a lost connection or a
refused upload."""

from __future__ import annotations

from django.utils import timezone

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services as dossier_services
from chinhquyenso.dossiers.models import Channel, Dossier, EDataItem
from chinhquyenso.portal import form_services
from chinhquyenso.portal.models import SubmissionDraft
from chinhquyenso.procedures.models import Procedure, ServiceLevel

SOURCE_ACCOUNT = "account"
SOURCE_POPULATION = "population_registry"


def open_draft(*, owner, procedure: Procedure) -> SubmissionDraft:
    """The citizen's unfinished draft for this procedure, or a new one prefilled
    from the account and the population database."""
    if not getattr(owner, "is_citizen", False):
        raise DomainError("Chỉ tài khoản công dân, tổ chức mới nộp hồ sơ trực tuyến.", "procedure")
    if not procedure.is_active or procedure.service_level == ServiceLevel.INFO_ONLY:
        raise DomainError("Thủ tục này chưa nhận hồ sơ trực tuyến.", "procedure")
    draft = SubmissionDraft.objects.filter(owner=owner, procedure=procedure, dossier__isnull=True).first()
    if draft:
        return draft
    applicant, sources = prefilled_applicant(owner)
    draft, _ = SubmissionDraft.objects.get_or_create(
        owner=owner, procedure=procedure, dossier=None, defaults={"applicant": applicant, "applicant_sources": sources}
    )
    return draft


def prefilled_applicant(owner) -> tuple[dict, list[str]]:
    """Name, ID and phone from the account; address, birth date and sex from
    the population database when it answers (a failure never blocks)."""
    from chinhquyenso.exchange.national import find_person

    applicant = {
        "full_name": owner.full_name,
        "identity_number": owner.identity_number,
        "phone": owner.phone,
        "address": "",
    }
    sources = [SOURCE_ACCOUNT]
    person = find_person(owner.identity_number)[0] if owner.kind == owner.Kind.CITIZEN else None
    if person is not None:
        applicant["address"] = person.address
        applicant["birth_date"] = person.birth_date.strftime("%d/%m/%Y") if person.birth_date else ""
        applicant["gender"] = person.gender
        sources.append(SOURCE_POPULATION)
    return applicant, sources


def _editable(draft: SubmissionDraft) -> SubmissionDraft:
    if draft.dossier_id:
        raise DomainError("Hồ sơ này đã được nộp; không sửa bản nháp được nữa.", "draft")
    return draft


def save_applicant(
    draft: SubmissionDraft, *, phone: str, address: str, note: str, agency_code: str = ""
) -> SubmissionDraft:
    """Save the applicant step; name and ID stay those of the account."""
    _editable(draft)
    applicant = dict(draft.applicant, phone=nfc(phone).replace(" ", ""), address=nfc(address))
    draft.applicant, draft.note, draft.agency_code = applicant, nfc(note), nfc(agency_code)
    draft.save(update_fields=["applicant", "note", "agency_code", "updated_at"])
    # Validate after saving: what was typed is kept even when it is wrong.
    dossier_services.clean_applicant(applicant, draft.owner)
    if not applicant["address"]:
        raise DomainError("Hãy nhập địa chỉ liên hệ.", "applicant.address")
    return draft


def upload_component(draft: SubmissionDraft, *, order: int, data: bytes, name: str) -> SubmissionDraft:
    _editable(draft)
    _check_order(draft, order)
    stored = store_upload(data, original_name=nfc(name), field=f"component-{order}", user=draft.owner)
    draft.components[str(order)] = {"file": stored.sha256, "name": stored.original_name or nfc(name)}
    draft.save(update_fields=["components", "updated_at"])
    return draft


def choose_edata(draft: SubmissionDraft, *, order: int, edata_id: int) -> SubmissionDraft:
    _editable(draft)
    _check_order(draft, order)
    item = EDataItem.objects.filter(pk=edata_id, owner=draft.owner).first()
    if item is None:
        raise DomainError("Giấy tờ được chọn không có trong kho dữ liệu của bạn.", f"component-{order}")
    draft.components[str(order)] = {"edata": item.pk, "name": item.title}
    draft.save(update_fields=["components", "updated_at"])
    return draft


def clear_component(draft: SubmissionDraft, *, order: int) -> SubmissionDraft:
    _editable(draft)
    draft.components.pop(str(order), None)
    draft.save(update_fields=["components", "updated_at"])
    return draft


def _check_order(draft: SubmissionDraft, order: int) -> None:
    if not draft.procedure.components.filter(order=order).exists():
        raise DomainError("Thủ tục không có thành phần hồ sơ này.", f"component-{order}")


def missing_components(draft: SubmissionDraft) -> list[str]:
    return [c.name for c in draft.procedure.components.all() if c.mandatory and str(c.order) not in draft.components]


def submit_draft(draft: SubmissionDraft) -> Dossier:
    """Submit once: the draft's key makes a retry (double click, resent form)
    return the dossier of the first submission; the draft is linked to its
    dossier in the transaction that creates it. The population lookup runs
    before that transaction (dossiers.services.submit)."""
    draft = SubmissionDraft.objects.select_related("procedure", "owner", "dossier").get(pk=draft.pk)
    if draft.dossier_id:
        return draft.dossier
    missing = missing_components(draft)
    if missing:
        raise DomainError("Còn thiếu giấy tờ: " + "; ".join(missing) + ".", "components")
    # The e-form (tờ khai điện tử): its typed values, and its PDF standing in for the declaration's upload.
    eform_data, declaration = form_services.for_submission(draft)
    components = []
    for order, choice in sorted(draft.components.items(), key=lambda kv: int(kv[0])):
        if "file" in choice:
            components.append({"order": int(order), "file_id": choice["file"]})
        elif "eform" in choice:
            components.append({"order": int(order), "file_id": declaration[int(order)]})
        else:
            components.append({"order": int(order), "edata_item": choice["edata"]})
    applicant = {k: draft.applicant.get(k, "") for k in ("full_name", "identity_number", "phone", "address")}

    def link(dossier: Dossier) -> None:
        SubmissionDraft.objects.select_for_update().filter(pk=draft.pk).update(
            dossier=dossier, updated_at=timezone.now()
        )

    return dossier_services.submit(
        actor=draft.owner,
        procedure_code=draft.procedure.code,
        channel=Channel.ONLINE,
        applicant=applicant,
        agency_code=draft.agency_code or None,
        components=components,
        form_data={**eform_data, **({"ghi_chu": draft.note} if draft.note else {})},
        idempotency_key=f"draft:{draft.pk}",
        then=link,
    )
