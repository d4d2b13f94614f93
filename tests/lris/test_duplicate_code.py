"""A code already in use is refused with a message that says what is
duplicated: the field, the value and the record that holds it
(core.unique — one wording for the admin pages, model forms and loaders)."""

import json

import pytest
from django.core.exceptions import ValidationError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.feedback.models import Category
from chinhquyenso.indicators.models import Indicator
from chinhquyenso.lris import services
from chinhquyenso.lris.models import ReportForm
from chinhquyenso.org.models import Agency, AgencyKind
from tests.lris.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_admin_page_names_the_duplicated_code_and_its_form(forms, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    response = signed_in(admin_user).post(
        "/quan-tri/lris/reportform/add/",
        {
            "code": "chinh-quyen-dien-tu",
            "name": "Biểu mẫu mới",
            "description": "",
            "period_kind": "month",
            "agency_kinds": "[]",
            "is_active": "on",
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    text = response.content.decode()
    assert "Mã biểu mẫu “chinh-quyen-dien-tu” đã được dùng cho biểu mẫu báo cáo “Chính quyền điện tử”." in text
    assert ReportForm.objects.filter(code="chinh-quyen-dien-tu").count() == 1


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda p: Agency(code="so-tu-phap", name="Sở Tư pháp (mới)", kind=AgencyKind.DEPARTMENT),
            "Mã nội bộ “so-tu-phap” đã được dùng cho cơ quan “Sở Tư pháp”.",
        ),
        (
            lambda p: Indicator(code="it_staff", name="Trùng", unit="người"),
            "Mã chỉ tiêu “it_staff” đã được dùng cho chỉ tiêu “Số công chức làm nhiệm vụ công nghệ thông tin",
        ),
    ],
    ids=["agency", "indicator"],
)
def test_every_code_names_what_holds_it(forms, province, make, expected):
    with pytest.raises(ValidationError) as caught:
        make(province).validate_unique()
    [message] = caught.value.message_dict["code"]
    assert message.startswith(expected)


def test_feedback_category_code(db):
    Category.objects.create(code="moi-truong", name="Môi trường")
    with pytest.raises(ValidationError) as caught:
        Category(code="moi-truong", name="Khác").validate_unique()
    assert caught.value.message_dict["code"] == [
        "Mã lĩnh vực “moi-truong” đã được dùng cho lĩnh vực phản ánh “Môi trường”."
    ]


def test_forms_loader_names_the_indicator_that_holds_the_code(db, tmp_path, admin_user):
    Indicator.objects.create(code="ty-le-x", name="Tỷ lệ hồ sơ X", unit="%", source=Indicator.Source.COMPUTED)
    path = tmp_path / "forms.json"
    path.write_text(json.dumps({"indicators": [{"code": "ty-le-x", "name": "Khác", "unit": "%"}], "forms": []}))
    with pytest.raises(DomainError) as caught:
        services.load_forms(path, actor=admin_user)
    assert caught.value.message.startswith("Mã chỉ tiêu “ty-le-x” đã được dùng cho chỉ tiêu “Tỷ lệ hồ sơ X”.")
