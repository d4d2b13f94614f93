"""Documents for the report tests, worded after the seeds (Báo cáo 413/BC-SKHCN, 08/4/2025)."""

import datetime as dt

from chinhquyenso.core.official.document import (
    Appendix,
    Bullet,
    Heading,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Signer,
    Table,
)

RECIPIENTS = ["UBND tỉnh (báo cáo);", "Sở, ban, ngành tỉnh;", "UBND huyện, thị xã, thành phố;", "Lưu: VT, PTCN-CĐS."]

APPENDIX_TABLE = Table(
    title="",
    columns=["STT", "Cơ quan, đơn vị", "Số tiêu chí đạt", "Tỷ lệ"],
    rows=[
        ["1", "Văn phòng UBND tỉnh", "11/14", "78,6%"],
        ["2", "Sở Khoa học và Công nghệ", "14/14", "100%"],
        ["3", "Sở Y tế", "12/14", "85,7%"],
    ],
    widths=[1, 6, 2.5, 2],
)


def report(*, paragraphs: int = 3, number="413", date=dt.date(2025, 4, 8), extra=()) -> OfficialDocument:
    """A report; `paragraphs` filler paragraphs make it as long as needed."""
    body = [
        Paragraph(
            "Sở Khoa học và Công nghệ báo cáo đánh giá mức độ hoàn thiện Chính quyền điện tử "
            "tỉnh An Giang tháng 3 năm 2025, như sau:"
        ),
        Heading(1, "I. KẾT QUẢ ĐẠT ĐƯỢC"),
        Heading(2, "1. Hạ tầng số"),
        Bullet("Thuê bao điện thoại di động: 2.164.505; thuê bao băng rộng cố định: 424.495;"),
        Bullet("Tỷ lệ hộ gia đình có kết nối băng rộng cố định: 83,17%.", marker="+"),
        Heading(2, "2. Dữ liệu mở"),
        Paragraph(
            "Số lượng cơ quan nhà nước cấp tỉnh, cấp huyện, cấp xã cung cấp dữ liệu mở là 178/180 cơ quan, "
            "đạt tỉ lệ 98,9%. Tổng số hồ sơ tiếp nhận 513.808 hồ sơ; số hồ sơ xử lý trực tuyến là "
            "213.163 hồ sơ, tỷ lệ hồ sơ trực tuyến đạt 41,5%."
        ),
        *extra,
    ]
    for number_ in range(1, paragraphs + 1):
        body.append(
            Paragraph(
                f"Đoạn {number_}: Đẩy mạnh thực hiện xây dựng và phát triển Chính quyền điện tử hướng tới Chính "
                "quyền số, kinh tế số, xã hội số, đảm bảo an toàn và an ninh thông tin mạng. Đôn đốc, theo dõi, "
                "hỗ trợ các cơ quan, địa phương hoàn thiện chính quyền điện tử trong năm 2025, phấn đấu đạt mục "
                "tiêu 90% cơ quan nhà nước hoàn thiện chính quyền điện tử."
            )
        )
    body.append(
        Paragraph(
            "Trên đây là báo cáo đánh giá mức độ hoàn thiện Chính quyền điện tử tỉnh An Giang tháng 3 năm 2025./."
        )
    )
    return OfficialDocument(
        parent_agency="UBND tỉnh An Giang",
        issuing_agency="Sở Khoa học và Công nghệ",
        symbol="BC-SKHCN",
        number=number,
        place="An Giang",
        date=date,
        summary="Đánh giá mức độ hoàn thiện Chính quyền điện tử tỉnh An Giang\ntháng 3 năm 2025",
        body=body,
        recipients=RECIPIENTS,
        signer=Signer(authority="KT. GIÁM ĐỐC", position="PHÓ GIÁM ĐỐC", name="Nguyễn Thanh Hải", note="(Đã ký)"),
        appendices=[Appendix("Phụ lục 1", "KẾT QUẢ HOÀN THIỆN CHÍNH QUYỀN ĐIỆN TỬ CẤP TỈNH", APPENDIX_TABLE)],
    )


def with_page_break() -> OfficialDocument:
    return report(paragraphs=1, extra=[PageBreak(), Paragraph("Sau ngắt trang.")])
