"""The signatures API: `POST /api/signatures/verify` — anyone uploads a PDF and reads each signature in it.

Open to anyone like the page /xac-thuc/: no sign-in, no CSRF token (nothing changes and nothing is kept:
the file is read, checked and dropped). Rate-limited per address (signing.throttle)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import File, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.http import client_ip
from chinhquyenso.signing import throttle
from chinhquyenso.signing.verify import NO_FILE, OVERALL_LABELS, SignatureReport, overall, verify_upload

router = Router()

Status = Literal["valid", "modified", "invalid", "unsigned"]


class SignatureOut(Schema):
    field: str = Field(description="Tên ô chữ ký trong tệp")
    valid: bool = Field(description="Hợp lệ: nguyên vẹn, chuỗi chứng thư tin cậy, không thu hồi/hết hạn, không bị sửa")
    intact: bool = Field(description="Phần được ký còn nguyên (mã băm khớp)")
    signer: str = Field(description="Tên (CN) trên chứng thư số của người ký")
    organization: str = Field(description="Tổ chức (O) trên chứng thư số, nếu có")
    signed_at: datetime | None = Field(
        description="Thời điểm ký: theo dấu thời gian tin cậy, nếu không thì theo khai báo"
    )
    timestamped: bool = Field(description="Có dấu thời gian (RFC 3161)")
    timestamp_at: datetime | None = Field(description="Thời điểm trong dấu thời gian")
    modified_after_signing: bool = Field(description="Tài liệu bị sửa sau chữ ký này (ngoài thêm chữ ký/điền biểu mẫu)")
    modification: str = Field(description="Mô tả thay đổi sau khi ký")
    chain_trusted: bool = Field(description="Chuỗi chứng thư dẫn đến tổ chức chứng thực gốc được tin cậy")
    chain: list[str] = Field(description="Chuỗi chứng thư, từ người ký đến gốc")
    revocation: Literal["good", "revoked", "unknown"] = Field(description="Tình trạng thu hồi chứng thư của người ký")
    expired: bool = Field(description="Chứng thư của người ký không còn hiệu lực lúc ký")
    problems: list[str] = Field(description="Lý do không hợp lệ (tiếng Việt)")


class VerifyOut(Schema):
    status: Status = Field(description="valid | modified | invalid | unsigned — kết luận chung cho cả tệp")
    status_label: str = Field(description="Kết luận bằng tiếng Việt")
    signatures: list[SignatureOut]


def signature_out(report: SignatureReport) -> dict:
    return {**report.__dict__, "chain": list(report.chain), "problems": list(report.problems)}


@router.post("verify", response=VerifyOut, auth=None, summary="Kiểm tra chữ ký số trong tệp PDF")
def verify(request, file: File[UploadedFile | None] = None):
    """Tải lên một tệp PDF (multipart, trường `file`) và nhận kết quả kiểm tra từng chữ ký số trong tệp: hợp lệ
    hay không, người ký, thời điểm ký, dấu thời gian, chuỗi chứng thư, tài liệu có bị sửa sau khi ký không.
    Tệp chỉ được kiểm tra, không được lưu lại. Tệp không phải PDF: 400 (`field`: `file`)."""
    throttle.VERIFICATIONS.check(client_ip(request))
    if file is None:  # said in Vietnamese, naming the field (ninja's own answer names the body)
        raise DomainError(NO_FILE, "file")
    reports = verify_upload(file)
    status = overall(reports)
    return {
        "status": status,
        "status_label": OVERALL_LABELS[status],
        "signatures": [signature_out(r) for r in reports],
    }
