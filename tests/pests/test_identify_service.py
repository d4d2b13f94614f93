"""Identification requests: the whole path from photos to an answer with a test-built ONNX model,
aggregation of several photos, abstention, no model → expert, idempotency, GPS removed, and the
experts' confirmations (labels, audit, the farmer told through the outbox)."""

from __future__ import annotations

import io
import logging
import uuid

import pytest
from PIL import Image

from chinhquyenso.accounts import services as accounts
from chinhquyenso.core.audit import AuditRecord
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.exchange import consent
from chinhquyenso.exchange.models import Message
from chinhquyenso.pests.models import Identification, IdentificationPhoto, Organism
from chinhquyenso.pests.services import identification as service
from tests.pests import identify_fixtures
from tests.pests.conftest import PASSWORD, grant_pests
from tests.pests.onnx_models import photo, write_model

Status = Identification.Status

tiny_model = identify_fixtures.tiny_model  # fixtures shared by the identification tests
expert = identify_fixtures.expert


def labels_of(identification):
    return [service.label_code(p) for p in identification.photos.order_by("pk")]


# ---------------------------------------------------------------------- the whole path


def test_two_photos_of_a_field_give_one_answer(pest_catalog, pest_area, tiny_model):
    identification = service.submit(
        photos=[photo("red"), photo("red", fmt="PNG", noise=3)], commune=pest_area.commune_a
    )
    identification.refresh_from_db()
    assert identification.status == Status.ANSWERED and not identification.sent_to_expert
    assert identification.answer.code == "ray-nau" and identification.confidence > 0.95
    assert [t["organism"] for t in identification.top] == ["ray-nau", "dao-on", "none"]
    assert identification.model_version.startswith("tiny-pests@") and identification.seconds > 0
    photos = list(identification.photos.order_by("pk"))
    assert len(photos) == 2 and all(p.top[0]["organism"] == "ray-nau" and len(p.top) == 3 for p in photos)
    assert photos[0].file.content_type == "image/jpeg" and photos[1].file.content_type == "image/png"


def test_a_photo_that_sees_nothing_dilutes_but_does_not_override(pest_catalog, tiny_model):
    identification = service.submit(photos=[photo("red"), photo("grey")])
    assert identification.status == Status.ANSWERED and identification.answer.code == "ray-nau"
    alone = service.submit(photos=[photo("red")])
    assert identification.confidence < alone.confidence  # the grey photo lowered it


def test_aggregation_is_the_mean_of_the_photos_probabilities():
    aggregated = service.aggregate(
        [[("ray-nau", 0.95), ("none", 0.03), ("dao-on", 0.02)], [("none", 0.4), ("ray-nau", 0.3), ("dao-on", 0.3)]]
    )
    assert aggregated == [
        ("ray-nau", pytest.approx(0.625)),
        ("none", pytest.approx(0.215)),
        ("dao-on", pytest.approx(0.16)),
    ]


def test_photos_that_disagree_abstain_and_go_to_an_expert(pest_catalog, tiny_model):
    identification = service.submit(photos=[photo("red"), photo("blue")])
    assert identification.status == Status.ABSTAINED and identification.sent_to_expert and identification.abstained
    assert identification.answer is None and identification.confidence < 0.6
    assert {t["organism"] for t in identification.top[:2]} == {"ray-nau", "dao-on"}


def test_an_uncertain_photo_abstains(pest_catalog, tiny_model):
    identification = service.submit(photos=[photo("purple")])
    assert identification.status == Status.ABSTAINED and identification.sent_to_expert


def test_the_threshold_is_the_setting(pest_catalog, tiny_model, settings):
    settings.CQS = {**settings.CQS, "PESTS_ABSTAIN_BELOW": 0.999}
    assert service.submit(photos=[photo("red")]).status == Status.ABSTAINED
    settings.CQS = {**settings.CQS, "PESTS_ABSTAIN_BELOW": 0.3}
    torn = service.submit(photos=[photo("purple")])
    assert torn.status == Status.ANSWERED and torn.answer.code in ("ray-nau", "dao-on")


def test_no_pest_needs_more_certainty_than_a_pest(pest_catalog, settings):
    organisms = {o.code: o for o in Organism.objects.filter(code__in=["ray-nau"])}
    settings.CQS = {**settings.CQS, "PESTS_ABSTAIN_BELOW": 0.6}
    pest = service.decide([("ray-nau", 0.7), ("none", 0.3)], organisms)
    clean = service.decide([("none", 0.7), ("ray-nau", 0.3)], organisms)
    surely_clean = service.decide([("none", 0.9), ("ray-nau", 0.1)], organisms)
    assert pest.status == Status.ANSWERED and pest.answer.code == "ray-nau"
    assert clean.status == Status.ABSTAINED  # 0.7 < 0.8 for "no pest"
    assert surely_clean.status == Status.ANSWERED and surely_clean.answer is None


def test_a_class_the_catalog_lacks_is_never_answered(pest_catalog, settings, tmp_path):
    model, classes = write_model(tmp_path, classes=("sau-la-la", "none", "dao-on"))
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": str(model), "PESTS_MODEL_CLASSES": str(classes)}
    identification = service.submit(photos=[photo("red")])
    assert identification.status == Status.ABSTAINED and identification.top[0]["organism"] == "sau-la-la"


def test_a_green_field_is_answered_no_pest(pest_catalog, tiny_model):
    identification = service.submit(photos=[photo("green"), photo("green", noise=5)])
    assert identification.status == Status.ANSWERED and identification.answer is None
    assert identification.top[0]["organism"] == "none"


def test_without_a_model_every_request_goes_to_an_expert(pest_catalog, settings):
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": "", "PESTS_MODEL_CLASSES": ""}
    identification = service.submit(photos=[photo("red"), photo("blue")])
    assert identification.status == Status.ABSTAINED and identification.sent_to_expert
    assert identification.top == [] and identification.model_version == service.NO_MODEL
    assert all(p.top == [] for p in identification.photos.all())


def test_a_broken_configuration_is_logged_and_the_farmer_still_gets_an_expert(pest_catalog, settings, tmp_path, caplog):
    model, classes = write_model(tmp_path, classes_text="ray-nau\nnone\n")
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": str(model), "PESTS_MODEL_CLASSES": str(classes)}
    with caplog.at_level(logging.ERROR, logger="chinhquyenso.pests.services.identification"):
        identification = service.submit(photos=[photo("red")])
    assert identification.status == Status.ABSTAINED and identification.model_version == service.NO_MODEL
    assert "Danh sách lớp có 2 mã nhưng mô hình" in caplog.text


# ---------------------------------------------------------------------- photos and idempotency


def test_the_same_form_sent_twice_is_one_request(pest_catalog, tiny_model):
    client_id = uuid.uuid4()
    first = service.submit(photos=[photo("red")], client_id=client_id)
    again = service.submit(photos=[photo("red")], client_id=str(client_id))
    assert again.pk == first.pk and Identification.objects.count() == 1 and IdentificationPhoto.objects.count() == 1
    with pytest.raises(DomainError):  # the same key with other photos is not a retry
        service.submit(photos=[photo("blue")], client_id=client_id)


@pytest.mark.parametrize(
    "photos, message",
    [
        ([], "ít nhất một ảnh"),
        ([photo("red")] * 6, "tối đa 5 ảnh"),
        ([photo("red"), b"%PDF-1.4 not a photo"], "Ảnh thứ 2: ảnh phải là tệp JPEG hoặc PNG"),
        ([photo("red")[:300]], "Ảnh thứ 1: tệp ảnh bị hỏng"),
    ],
)
def test_refused_photos(pest_catalog, tiny_model, photos, message):
    with pytest.raises(DomainError, match=message) as refused:
        service.submit(photos=photos)
    assert refused.value.field == "photos" and not Identification.objects.exists()


def test_gps_is_removed_from_the_stored_photo_and_orientation_kept(pest_catalog, tiny_model):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x8825] = {1: "N", 2: (10.0, 30.0, 0.0), 3: "E", 4: (105.0, 20.0, 0.0)}  # GPS
    data = photo("red", exif=exif)
    assert 0x8825 in Image.open(io.BytesIO(data)).getexif()
    identification = service.submit(photos=[data])
    stored = identification.photos.get().file
    with stored.file.open("rb") as f:
        kept = Image.open(io.BytesIO(f.read())).getexif()
    assert 0x8825 not in kept and kept.get(0x0112) == 6
    plain = photo("blue")  # no GPS: stored byte for byte
    assert service.clean_photo(plain) == plain


def test_a_farmers_photos_are_granted_to_their_account(pest_catalog, tiny_model, citizen):
    identification = service.submit(photos=[photo("red")], farmer=citizen)
    assert identification.farmer == citizen
    assert identification.photos.get().file.grants.filter(user=citizen).exists()


def test_send_to_expert_on_request(pest_catalog, tiny_model):
    identification = service.submit(photos=[photo("red")])
    assert identification.status == Status.ANSWERED and not identification.sent_to_expert
    service.send_to_expert(identification)
    identification.refresh_from_db()
    assert identification.sent_to_expert and identification.status == Status.ANSWERED
    assert not identification.abstained  # the model did answer: the accuracy table keeps that


# ---------------------------------------------------------------------- experts


def test_expert_confirms_per_photo_then_the_request_is_confirmed(pest_catalog, tiny_model, expert):
    identification = service.submit(photos=[photo("red"), photo("blue")])
    first, second = identification.photos.order_by("pk")
    service.confirm(actor=expert, identification=identification, labels={first.pk: "ray-nau"})
    identification.refresh_from_db()
    assert identification.status == Status.ABSTAINED and labels_of(identification) == ["ray-nau", None]
    service.confirm(actor=expert, identification=identification, labels={second.pk: "ray-nau"})
    identification.refresh_from_db()
    assert identification.status == Status.CONFIRMED and identification.answer.code == "ray-nau"
    second.refresh_from_db()
    assert second.labelled_by == expert and second.labelled_at is not None
    records = AuditRecord.objects.filter(action="pests.identify.confirm").order_by("seq")
    assert records.count() == 2
    assert records.last().after["status"] == "confirmed" and records.last().after["labels"] == {
        str(second.pk): "ray-nau"
    }


def test_expert_confirms_no_pest_for_the_whole_request(pest_catalog, tiny_model, expert):
    identification = service.submit(photos=[photo("green"), photo("grey")])
    photos = list(identification.photos.all())
    service.confirm(actor=expert, identification=identification, labels={p.pk: "none" for p in photos})
    identification.refresh_from_db()
    assert identification.status == Status.CONFIRMED and identification.answer is None
    assert all(p.label_none and p.label is None for p in identification.photos.all())


def test_a_pest_on_one_photo_makes_the_answer(pest_catalog, tiny_model, expert):
    identification = service.submit(photos=[photo("green"), photo("blue"), photo("grey")])
    a, b, c = identification.photos.order_by("pk")
    service.confirm(actor=expert, identification=identification, labels={a.pk: "none", b.pk: "dao-on", c.pk: "none"})
    identification.refresh_from_db()
    assert identification.answer.code == "dao-on"


def test_only_experts_confirm_and_only_catalog_codes(pest_catalog, tiny_model, expert, pest_officer):
    identification = service.submit(photos=[photo("red")])
    only = identification.photos.get()
    with pytest.raises(PermissionDenied):
        service.confirm(actor=pest_officer, identification=identification, labels={only.pk: "ray-nau"})
    with pytest.raises(DomainError, match="không có trong danh mục") as refused:
        service.confirm(actor=expert, identification=identification, labels={only.pk: "sau-la-la"})
    assert refused.value.field == f"label-{only.pk}"
    other = service.submit(photos=[photo("blue")]).photos.get()
    with pytest.raises(DomainError, match="Ảnh không thuộc yêu cầu này"):
        service.confirm(actor=expert, identification=identification, labels={other.pk: "dao-on"})
    with pytest.raises(DomainError, match="ít nhất một ảnh"):
        service.confirm(actor=expert, identification=identification, labels={only.pk: ""})
    assert not AuditRecord.objects.filter(action="pests.identify.confirm").exists()


def test_the_farmer_with_an_account_gets_a_notice(pest_catalog, tiny_model, expert, citizen):
    consent.give(citizen, channel="sms", address="0912345678")
    identification = service.submit(photos=[photo("purple")], farmer=citizen)
    service.confirm(actor=expert, identification=identification, labels={identification.photos.get().pk: "dao-on"})
    messages = Message.objects.filter(kind="pests.identify.answer").order_by("channel")
    assert sorted(messages.values_list("channel", flat=True)) == ["in_app", "sms"]
    notice = messages.get(channel="in_app")
    assert notice.user == citizen and "Đạo ôn" in notice.body
    assert notice.link == f"https://dvc.example.gov.vn/sau-benh/nhan-dang/{identification.public_id}/"
    assert messages.get(channel="sms").recipient == "0912345678"
    # Confirming again with the same answer tells nobody twice.
    service.confirm(actor=expert, identification=identification, labels={identification.photos.get().pk: "dao-on"})
    assert Message.objects.filter(kind="pests.identify.answer").count() == 2


def test_a_phone_given_on_the_form_gets_one_sms_and_is_then_forgotten(pest_catalog, tiny_model, expert):
    identification = service.submit(photos=[photo("purple")], phone="0912 345 678")
    assert Identification.objects.get(pk=identification.pk).phone == "0912345678"
    service.confirm(actor=expert, identification=identification, labels={identification.photos.get().pk: "ray-nau"})
    sms = Message.objects.get(kind="pests.identify.answer")
    assert sms.channel == "sms" and sms.recipient == "0912345678" and sms.user is None
    assert "Ray nau" in sms.body or "Rầy nâu" in sms.body
    assert str(identification.public_id) in sms.body  # the result page's link
    assert Identification.objects.get(pk=identification.pk).phone == ""


def test_a_bad_phone_is_refused(pest_catalog, tiny_model):
    with pytest.raises(DomainError) as refused:
        service.submit(photos=[photo("red")], phone="12ab")
    assert refused.value.field == "phone"


def test_a_correction_tells_the_farmer_the_new_answer(pest_catalog, tiny_model, expert, citizen):
    identification = service.submit(photos=[photo("purple")], farmer=citizen)
    only = identification.photos.get()
    service.confirm(actor=expert, identification=identification, labels={only.pk: "dao-on"})
    service.confirm(actor=expert, identification=identification, labels={only.pk: "ray-nau"})
    identification.refresh_from_db()
    assert identification.answer.code == "ray-nau"
    bodies = list(Message.objects.filter(kind="pests.identify.answer", channel="in_app").values_list("body", flat=True))
    assert len(bodies) == 2 and any("Rầy nâu" in b for b in bodies)
    assert AuditRecord.objects.filter(action="pests.identify.confirm").count() == 2


def test_a_read_only_account_cannot_confirm(pest_catalog, tiny_model, admin_user):
    from chinhquyenso.accounts.models import GlobalRole

    auditor = accounts.create_officer(
        actor=admin_user, username="kiem.tra", password=PASSWORD, full_name="Kiểm Tra", global_role=GlobalRole.AUDITOR
    )
    grant_pests(auditor, "confirm_identification")
    identification = service.submit(photos=[photo("red")])
    with pytest.raises(PermissionDenied):
        service.confirm(
            actor=auditor, identification=identification, labels={identification.photos.get().pk: "ray-nau"}
        )


def test_an_inactive_organism_cannot_be_a_label(pest_catalog, tiny_model, expert):
    Organism.objects.filter(code="bac-la").update(active=False)
    identification = service.submit(photos=[photo("red")])
    with pytest.raises(DomainError, match="không có trong danh mục"):
        service.confirm(actor=expert, identification=identification, labels={identification.photos.get().pk: "bac-la"})
