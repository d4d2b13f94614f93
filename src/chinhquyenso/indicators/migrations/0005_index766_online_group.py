"""The 766 online-service group (truc-tuyen, 22 points) follows qd766.md
(issue 17, item 9): criteria 3.1 (procedures offered online, full at ≥ 80%)
and 3.5 (fee-bearing procedures integrated with online payment, full at
≥ 80%) join the group with their indicators, the group's points follow the
national portal's live split (3.1: 2, 3.2: 4, 3.3: 6, 3.5: 2, 3.6: 8), the
reuse rule 766-3-3 is full at 80% (was 50%), and every rule cites the
criterion it stands for.

load_registry only creates what is missing, so an installation whose registry
was already loaded gets here: the new indicators (with their first formula)
and rules, and the changed values — each only where it still holds the value
shipped before, so what the province edited stays as it is. The group's points
change together or not at all: if the province changed any of them, its
points stay and the two new rules come with 0 points (their source says so),
so the group still adds up to the points the province gave it. Self-contained:
the data below is a copy of registry.json at this change."""

from decimal import Decimal

from django.db import migrations

# The source every 766 rule was shipped with (766-5-1 with one more sentence).
SHIPPED_SOURCE = "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm); điểm thành phần và ngưỡng tái dựng — đối chiếu văn bản gốc trước khi dùng chính thức"
SHIPPED_FEEDBACK_SOURCE = SHIPPED_SOURCE + ". Số liệu tính từ phân hệ phản ánh, kiến nghị (feedback_on_time_rate)."

# rule code → the sources before and now
SOURCES = {
    "766-1-1": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 1, tiêu chí 1.1–1.3 (công bố trước ít nhất 5 ngày làm việc, công khai trên CSDL quốc gia trong 5 ngày làm việc, nội dung đầy đủ, chính xác — tài liệu tham chiếu qd766.md). Gộp ba tiêu chí thành một tỷ lệ; điểm (9) và ngưỡng (100%) tái dựng, chưa xác minh (bản chấm điểm trực tuyến: 6/4/2) — đối chiếu văn bản gốc.",
    ),
    "766-1-2": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 1, tiêu chí 1.4 (đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia — tài liệu tham chiếu qd766.md). Điểm (9) và cách tính tỷ lệ tái dựng, chưa xác minh (bản chấm điểm trực tuyến: 6) — đối chiếu văn bản gốc.",
    ),
    "766-2-1": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 2, tiêu chí 2.1 (đúng hạn: giải quyết xong không muộn hơn ngày hẹn trả; trừ thời gian chờ bổ sung; hồ sơ yêu cầu bổ sung quá 01 lần tính là trễ hạn — tài liệu tham chiếu qd766.md). Các bậc điểm tái dựng, chưa xác minh (bản chấm điểm trực tuyến: 20 × tỷ lệ đúng hạn) — đối chiếu văn bản gốc.",
    ),
    "766-2-2": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 2. Tiêu chí 2.2 của quyết định là thời gian giải quyết bình quân (tài liệu tham chiếu qd766.md), chưa có ngưỡng chấm điểm được xác minh; tạm chấm bằng tỷ lệ hồ sơ đang giải quyết còn trong hạn — điểm và cách tính tái dựng, đối chiếu văn bản gốc.",
    ),
    "766-3-1": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 4, tiêu chí 4.2 (số hóa hồ sơ, kết quả: đủ điểm khi ≥ 80% — tài liệu tham chiếu qd766.md). Điểm (8) tái dựng, chưa xác minh — đối chiếu văn bản gốc.",
    ),
    "766-3-2": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 4, tiêu chí 4.1 (cấp kết quả điện tử — tài liệu tham chiếu qd766.md). Điểm (8) và ngưỡng (80%) tái dựng, chưa xác minh — đối chiếu văn bản gốc.",
    ),
    "766-3-3": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 4, tiêu chí 4.3 (khai thác, tái sử dụng dữ liệu, giấy tờ đã số hóa: đủ điểm khi ≥ 80% — tài liệu tham chiếu qd766.md). Điểm (6) tái dựng, chưa xác minh — đối chiếu văn bản gốc.",
    ),
    "766-4-1": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 3, tiêu chí 3.2 (tỷ lệ dịch vụ công trực tuyến có phát sinh hồ sơ — tài liệu tham chiếu qd766.md). Điểm (4) và cách tính (4 × tỷ lệ, đủ điểm khi 100%) theo bản chấm điểm trực tuyến, chưa xác minh; quy tắc tái dựng — đối chiếu văn bản gốc.",
    ),
    "766-4-2": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 3, tiêu chí 3.3 (tỷ lệ hồ sơ nộp trực tuyến: đủ điểm khi ≥ 50% — tài liệu tham chiếu qd766.md). Điểm (6) và cách tính dưới ngưỡng (min(6, 6 × tỷ lệ / 50%)) theo bản chấm điểm trực tuyến, chưa xác minh; quy tắc tái dựng — đối chiếu văn bản gốc.",
    ),
    "766-4-3": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 3, tiêu chí 3.6 (tỷ lệ hồ sơ thanh toán trực tuyến — tài liệu tham chiếu qd766.md). Bản chấm điểm trực tuyến (chưa xác minh) chia phần thanh toán 2/2/6: 2 điểm cho tiêu chí 3.5, 6 điểm cho tiêu chí 3.6 và 2 điểm cho một tiêu chí thanh toán thứ hai mà tài liệu tham chiếu không xác định được; 2 điểm đó tạm tính vào tiêu chí này (8 điểm). Ngưỡng (50%) và cách tính theo tỷ lệ tái dựng, chưa xác minh — đối chiếu văn bản gốc.",
    ),
    "766-5-1": (
        SHIPPED_FEEDBACK_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 5, tiêu chí 5.2 (phản ánh, kiến nghị xử lý đúng hạn trong 15 ngày làm việc; từ chối 2 ngày, đề nghị cung cấp thông tin 5 ngày — tài liệu tham chiếu qd766.md). Điểm (8) và ngưỡng tái dựng, chưa xác minh (bản chấm điểm trực tuyến: 6). Số liệu tính từ phân hệ phản ánh, kiến nghị (feedback_on_time_rate).",
    ),
    "766-5-2": (
        SHIPPED_SOURCE,
        "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 5, tiêu chí 5.4 (mức độ hài lòng trong giải quyết TTHC: đủ điểm khi ≥ 90% — tài liệu tham chiếu qd766.md). Điểm (10) tái dựng, chưa xác minh (bản chấm điểm trực tuyến: 6); số liệu do cơ quan báo cáo (biểu mẫu LRIS) — đối chiếu văn bản gốc.",
    ),
}
# rule code → (field, shipped value, new value)
THRESHOLDS = {"766-3-3": (Decimal(50), Decimal(80))}
ORDERS = {"766-4-1": (1, 2), "766-4-2": (2, 3), "766-4-3": (3, 5)}
# the online-service group's points, shipped and now (all change together or none)
GROUP = "truc-tuyen"
POINTS = {
    "766-4-1": (Decimal(6), Decimal(4)),
    "766-4-2": (Decimal(10), Decimal(6)),
    "766-4-3": (Decimal(6), Decimal(8)),
}

NEW_INDICATORS = [
    {
        "code": "online_service_procedure_rate",
        "name": "Tỷ lệ thủ tục hành chính có dịch vụ công trực tuyến",
        "unit": "%",
        "count_unit": "thủ tục",
        "group": "Dịch vụ công trực tuyến",
        "source": "computed",
        "value_type": "ratio",
        "decimals": 1,
        "higher_is_better": True,
        "description": "QĐ 766/QĐ-TTg, tiêu chí 3.1: số thủ tục hành chính cơ quan giải quyết trong kỳ được cung cấp dịch vụ công trực tuyến (một phần hoặc toàn trình) trên tổng số thủ tục hành chính cơ quan giải quyết trong kỳ (mọi mức độ dịch vụ, kể cả thủ tục chỉ cung cấp thông tin). Tính từ danh mục thủ tục và phân công cơ quan giải quyết, không tính từ hồ sơ.",
        "numerator_label": "thủ tục có dịch vụ công trực tuyến",
        "denominator_label": "thủ tục cơ quan giải quyết",
        "aggregation": "sum",
    },
    {
        "code": "online_payment_procedure_rate",
        "name": "Tỷ lệ thủ tục hành chính có phí, lệ phí được tích hợp thanh toán trực tuyến",
        "unit": "%",
        "count_unit": "thủ tục",
        "group": "Dịch vụ công trực tuyến",
        "source": "computed",
        "value_type": "ratio",
        "decimals": 1,
        "higher_is_better": True,
        "description": "QĐ 766/QĐ-TTg, tiêu chí 3.5. Trên nền tảng này, hồ sơ của mọi thủ tục đều ghi nhận được thanh toán trực tuyến (khoản thanh toán kèm mã giao dịch của nền tảng thanh toán), nên thủ tục có phí, lệ phí được cung cấp dịch vụ công trực tuyến được tính là đã tích hợp thanh toán trực tuyến. Tỷ lệ = số thủ tục có phí hoặc lệ phí (phí > 0 hoặc lệ phí > 0) được cung cấp dịch vụ công trực tuyến (một phần, toàn trình) trên tổng số thủ tục có phí hoặc lệ phí cơ quan giải quyết trong kỳ. Tính từ danh mục thủ tục, không tính từ hồ sơ.",
        "numerator_label": "thủ tục có phí, lệ phí được cung cấp trực tuyến",
        "denominator_label": "thủ tục có phí, lệ phí cơ quan giải quyết",
        "aggregation": "sum",
    },
]
FORMULAS = {
    "online_service_procedure_rate": ("services_online", "procedures_handled"),
    "online_payment_procedure_rate": ("fee_procedures_online", "fee_procedures_handled"),
}
NEW_RULES = [
    {
        "code": "766-4-4",
        "name": "Thủ tục hành chính có dịch vụ công trực tuyến",
        "indicator": "online_service_procedure_rate",
        "max_points": Decimal(2),
        "method": "proportional",
        "threshold": Decimal(80),
        "order": 1,
        "source": "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 3, tiêu chí 3.1 (tỷ lệ thủ tục hành chính có dịch vụ công trực tuyến: đủ điểm khi ≥ 80% — tài liệu tham chiếu qd766.md). Điểm (2) và cách tính dưới ngưỡng (min(2, 2 × tỷ lệ / 80%)) theo bản chấm điểm trực tuyến, chưa xác minh; mẫu số (mọi thủ tục cơ quan giải quyết trong kỳ) là cách hiểu tái dựng — đối chiếu văn bản gốc.",
    },
    {
        "code": "766-4-5",
        "name": "Thủ tục hành chính có phí, lệ phí được tích hợp thanh toán trực tuyến",
        "indicator": "online_payment_procedure_rate",
        "max_points": Decimal(2),
        "method": "proportional",
        "threshold": Decimal(80),
        "order": 4,
        "source": "QĐ 766/QĐ-TTg ngày 23/6/2022 (5 nhóm, 100 điểm), nhóm 3, tiêu chí 3.5 (tỷ lệ thủ tục hành chính có phí, lệ phí được tích hợp thanh toán trực tuyến: đủ điểm khi ≥ 80% — tài liệu tham chiếu qd766.md). Điểm (2) theo bản chấm điểm trực tuyến (phần thanh toán 2/2/6), chưa xác minh; tính theo tỷ lệ dưới ngưỡng là tái dựng. Trên nền tảng này hồ sơ của mọi thủ tục ghi nhận được thanh toán trực tuyến, nên thủ tục có phí, lệ phí được cung cấp trực tuyến được tính là đã tích hợp (chỉ tiêu online_payment_procedure_rate) — đối chiếu văn bản gốc.",
    },
]
UNSCORED = (
    " Chưa tính điểm: tỉnh đã sửa điểm các tiêu chí của nhóm này — đặt điểm cho tiêu chí này trong trang quản trị."
)


def follow_the_reference(apps, schema_editor):
    Indicator = apps.get_model("indicators", "Indicator")
    FormulaVersion = apps.get_model("indicators", "FormulaVersion")
    Group = apps.get_model("indicators", "Index766Group")
    Rule = apps.get_model("indicators", "Index766Rule")
    if not Indicator.objects.exists():
        return  # registry not loaded yet: load_registry creates everything from registry.json
    beside = Indicator.objects.filter(code="online_payment_rate").values_list("order", flat=True).first()
    for item in NEW_INDICATORS:
        indicator, created = Indicator.objects.get_or_create(
            code=item["code"], defaults={**item, "order": beside if beside is not None else 100}
        )
        if created:
            numerator, denominator = FORMULAS[item["code"]]
            FormulaVersion.objects.create(
                indicator=indicator,
                version=1,
                valid_from="2000-01-01",
                numerator=numerator,
                denominator=denominator,
                scale=100,
            )
    rules = {rule.code: rule for rule in Rule.objects.all()}
    for code, (before, now) in SOURCES.items():
        if code in rules and rules[code].source == before:
            rules[code].source = now
    for code, (before, now) in THRESHOLDS.items():
        if code in rules and rules[code].threshold == before:
            rules[code].threshold = now
    for code, (before, now) in ORDERS.items():
        if code in rules and rules[code].order == before:
            rules[code].order = now
    group = Group.objects.filter(code=GROUP).first()
    shipped_points = group is not None and all(
        code in rules and rules[code].group_id == group.pk and rules[code].max_points == before
        for code, (before, _) in POINTS.items()
    )
    if shipped_points:
        for code, (_, now) in POINTS.items():
            rules[code].max_points = now
    for rule in rules.values():
        rule.save()
    if group is None:
        return
    indicators = {i.code: i for i in Indicator.objects.filter(code__in=[r["indicator"] for r in NEW_RULES])}
    for item in NEW_RULES:
        if item["code"] in rules or item["indicator"] not in indicators:
            continue
        Rule.objects.create(
            group=group,
            code=item["code"],
            name=item["name"],
            indicator=indicators[item["indicator"]],
            max_points=item["max_points"] if shipped_points else Decimal(0),
            method=item["method"],
            threshold=item["threshold"],
            steps=[],
            source=item["source"] + ("" if shipped_points else UNSCORED),
            order=item["order"],
        )


class Migration(migrations.Migration):
    dependencies = [("indicators", "0004_vietnamese_labels")]

    operations = [migrations.RunPython(follow_the_reference, migrations.RunPython.noop)]
