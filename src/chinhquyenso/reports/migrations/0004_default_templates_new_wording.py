import re

from django.db import migrations

# What the default templates (reports/data/templates.json) said before, and what they say now.
OLD_DISTRICTS = "UBND huyện, thị xã, thành phố;"
DATED_RECIPIENTS = [
    {"text": "UBND huyện, thị xã, thành phố;", "valid_to": "2025-07-01"},
    {"text": "UBND các xã, phường, đặc khu;", "valid_from": "2025-07-01"},
]
TEXTS = {
    "Chỉ số phục vụ người dân, doanh nghiệp theo Bộ chỉ số 766 đạt {{ index766.points|vnnum:2 }}/"
    "{{ index766.max_points|vnnum:0 }} điểm.": "Chỉ số phục vụ người dân, doanh nghiệp theo Bộ chỉ số 766 đạt "
    "{{ index766.summary }}.",
    "Tổng số cơ quan nhà nước hoàn thiện Chính quyền điện tử là {{ egov.rate.numerator|vnnum }}/"
    "{{ egov.rate.denominator|vnnum }} cơ quan, tỷ lệ {{ egov.rate.display }}.": "{% for level in egov.levels %}"
    "- Tính đến {{ egov.period.label }}, tổng số {{ level.noun }} hoàn thiện Chính quyền điện tử là "
    "{{ level.complete|vnnum }}/{{ level.assessed|vnnum }} cơ quan, tỷ lệ {{ level.rate.display }}."
    "{% if not forloop.last %} {% endif %}{% empty %}Chưa có cơ quan nào thuộc diện đánh giá mức độ hoàn thiện "
    "Chính quyền điện tử.{% endfor %}",
    "{% for level in egov.levels %}- Tính đến {{ period.label }}, tổng số {{ level.label|lower }} hoàn thiện "
    "Chính quyền điện tử là {{ level.complete|vnnum }}/{{ level.assessed|vnnum }} cơ quan, tỷ lệ "
    "{{ level.rate.display }}.{% if not forloop.last %} {% endif %}{% endfor %}": "{% for level in egov.levels %}"
    "- Tính đến {{ egov.period.label }}, tổng số {{ level.noun }} hoàn thiện Chính quyền điện tử là "
    "{{ level.complete|vnnum }}/{{ level.assessed|vnnum }} cơ quan, tỷ lệ {{ level.rate.display }}."
    "{% if not forloop.last %} {% endif %}{% endfor %}",
    "(Phụ lục kết quả thực hiện mục tiêu chuyển đổi số năm {{ period.end|slice:':4' }} kèm theo)": "{% if targets %}"
    "(Phụ lục kết quả thực hiện mục tiêu chuyển đổi số năm {{ period.end|slice:':4' }} kèm theo)"
    "{% else %}{{ targets_missing }}{% endif %}",
}
# "đạt {{ v.online_payment_rate }}" printed "đạt không có số liệu" for a figure
# without data; .reached words both cases (reports.services.Figure.reached).
REACHED = re.compile(r"đạt \{\{ v\.(\w+) \}\}")


def follow_the_two_tier_government(apps, schema_editor):
    """Templates loaded from the defaults: the districts' line becomes dated
    (no district level from 01/7/2025), and the texts the province has not
    edited take the new wording. Edited texts are left as they are."""
    for template in apps.get_model("reports", "ReportTemplate").objects.all():
        changed = False
        if OLD_DISTRICTS in template.recipients:
            at = template.recipients.index(OLD_DISTRICTS)
            template.recipients = [*template.recipients[:at], *DATED_RECIPIENTS, *template.recipients[at + 1 :]]
            changed = True
        for block in template.body:
            if isinstance(block, dict) and block.get("text") in TEXTS:
                block["text"] = TEXTS[block["text"]]
                changed = True
            if isinstance(block, dict) and REACHED.search(block.get("text") or ""):
                block["text"] = REACHED.sub(r"{{ v.\1.reached }}", block["text"])
                changed = True
        if changed:
            template.save(update_fields=["recipients", "body"])


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_report_numbers_from_core_counters")]

    operations = [migrations.RunPython(follow_the_two_tier_government, migrations.RunPython.noop)]
