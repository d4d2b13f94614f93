"""FAQ entries are indexed with their procedure, loaded from the national list, and audited."""

import json

import pytest

from chinhquyenso.assistant import index, services
from chinhquyenso.assistant.models import FaqEntry
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditRecord
from tests.conftest import make_procedure


@pytest.fixture
def two_procedures(province, admin_user):
    """Two procedures a question about "giấy tờ đi nước ngoài" does not tell apart by name."""
    agencies = [province["xa_a"]]
    birth = make_procedure(admin_user, agencies)
    death = make_procedure(
        admin_user,
        agencies,
        code="1.000656",
        name="Đăng ký khai tử",
        result_type="trich-luc-khai-tu",
        result_name="Trích lục khai tử",
        components=[{"name": "Tờ khai đăng ký khai tử"}],
    )
    return birth, death


def codes(query):
    return [h.code for h in index.search(query)]


def test_a_faq_question_brings_its_procedure_first(two_procedures, admin_user):
    birth, death = two_procedures
    query = "người nhà mất thì phải báo ở đâu"
    before = codes(query)
    assert death.code not in before[:1]
    services.save_faq_entry(
        actor=admin_user,
        procedure=death,
        question="Người nhà mất thì phải báo ở đâu?",
        answer="Theo danh mục, thủ tục “Đăng ký khai tử” nộp tại UBND cấp xã.",
    )
    hits = index.search(query)
    assert hits[0].code == death.code
    lines = index.explain(hits[0])
    assert any("(câu hỏi thường gặp)" in line for line in lines), lines
    record = AuditRecord.objects.filter(action="assistant.faq.create").get()
    assert record.after["procedure"] == death.code


def test_faq_answers_are_not_indexed(two_procedures, admin_user):
    birth, death = two_procedures
    services.save_faq_entry(
        actor=admin_user,
        procedure=birth,
        question="Làm giấy khai sinh cần gì?",
        answer="Cần giấy chứng sinh; trường hợp khác xem thủ tục karaoke.",
    )
    assert codes("karaoke") == []


def test_an_inactive_or_edited_faq_entry_changes_the_index_version(two_procedures, admin_user):
    birth, death = two_procedures
    v0 = index.catalog_version()
    entry = services.save_faq_entry(actor=admin_user, procedure=death, question="Báo tử ở đâu?", answer="Ở UBND xã.")
    v1 = index.catalog_version()
    assert v1 != v0
    assert any("thường gặp" in line for line in index.explain(index.search("báo tử")[0]))
    services.save_faq_entry(
        actor=admin_user, entry=entry, procedure=death, question=entry.question, answer=entry.answer, is_active=False
    )
    assert index.catalog_version() != v1
    assert not [line for hit in index.search("báo tử") for line in index.explain(hit) if "thường gặp" in line]


def test_a_question_is_one_entry_per_procedure_whatever_its_spelling(two_procedures, admin_user):
    birth, death = two_procedures
    services.save_faq_entry(actor=admin_user, procedure=death, question="Báo tử ở đâu?", answer="Ở UBND xã.")
    with pytest.raises(DomainError) as exc:
        services.save_faq_entry(actor=admin_user, procedure=death, question="bao tu o dau", answer="x")
    assert exc.value.field == "question"
    with pytest.raises(DomainError):
        services.save_faq_entry(actor=admin_user, procedure=death, question="  ?! ", answer="x")


def test_load_faq_adds_missing_entries_once(two_procedures, admin_user, tmp_path):
    birth, death = two_procedures
    path = tmp_path / "faq.json"
    path.write_text(
        json.dumps(
            {
                "faq": [
                    {"procedure_code": birth.code, "question": "Khai sinh cho con ở đâu?", "answer": "UBND xã."},
                    {"procedure_code": death.code, "question": "Báo tử mất bao lâu?", "answer": "1 ngày."},
                    {"procedure_code": "9.999999", "question": "Thủ tục không có?", "answer": "Không."},
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert services.load_faq(path, actor=admin_user) == {"created": 2, "existing": 0, "no_procedure": 1}
    FaqEntry.objects.filter(procedure=death).update(answer="Đã sửa bởi cán bộ.")
    assert services.load_faq(path, actor=admin_user) == {"created": 0, "existing": 2, "no_procedure": 1}
    assert FaqEntry.objects.get(procedure=death).answer == "Đã sửa bởi cán bộ."
    assert AuditRecord.objects.filter(action="assistant.faq.load").count() == 2
    assert death.code in codes("báo tử bao lâu")


def test_the_national_faq_file_is_well_formed(db):
    """Every entry of procedures_national.json's "faq" list passes the loader's checks."""
    data = json.loads(services.DEFAULT_FAQ.read_text(encoding="utf-8"))
    assert len(data["faq"]) >= 200
    for i, item in enumerate(data["faq"]):
        services._clean_faq(item["question"], item["answer"], f"faq[{i}].")


def test_load_assistant_is_idempotent(two_procedures, admin_user):
    from io import StringIO

    from django.core.management import call_command

    from chinhquyenso.assistant.models import Synonym

    out = StringIO()
    call_command("load_assistant", stdout=out)
    synonyms, faq = Synonym.objects.count(), FaqEntry.objects.count()
    assert synonyms > 100 and faq >= 1  # the national FAQ entries of 1.001193 (the only code both have)
    assert "bỏ qua" in out.getvalue()  # entries of procedures this catalog does not have
    out = StringIO()
    call_command("load_assistant", "--user", admin_user.username, stdout=out)
    assert (Synonym.objects.count(), FaqEntry.objects.count()) == (synonyms, faq)
    assert "thêm 0, đã có" in out.getvalue()


def test_the_admin_form_refuses_a_question_the_procedure_already_has(two_procedures, admin_user, client):
    birth, _ = two_procedures
    services.save_faq_entry(actor=admin_user, procedure=birth, question="Đăng ký khai sinh ở đâu?", answer="Ở xã.")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    page = "/quan-tri/assistant/faqentry/add/"
    answer = client.post(
        page, {"procedure": birth.pk, "question": "dang ky khai sinh o dau?", "answer": "Ở xã.", "is_active": "on"}
    )
    assert answer.status_code == 200  # the form again, with the message beside the field
    assert "đã có câu hỏi" in answer.content.decode()
    assert FaqEntry.objects.count() == 1
