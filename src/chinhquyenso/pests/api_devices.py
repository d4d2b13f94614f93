"""Smart traps without MQTT post the same message over HTTP: `POST /api/pests/traps/{device_id}/counts`.

No user session and no CSRF token: the device signs the exact body with its secret (header
`X-Signature`, HMAC-SHA256 hex — services.ingest), which authenticates it and the content at once.
Throttled per device (CQS["PESTS_DEVICE_PER_MINUTE"], default 60)."""

from __future__ import annotations

from ninja import Router, Schema
from pydantic import Field

from chinhquyenso.core.errors import Conflict, DomainError
from chinhquyenso.core.throttle import PerMinute
from chinhquyenso.pests.services.ingest import MAX_PAYLOAD_BYTES, REUSED_ID, ingest

router = Router()

PER_DEVICE = PerMinute(
    name="pests:device",
    setting="PESTS_DEVICE_PER_MINUTE",
    default=60,
    message="Thiết bị gửi quá nhiều tin nhắn trong một phút; chờ một chút rồi gửi lại.",
    field="device_id",
)

# Refusals that say the sender is not who it claims: 401; the rest are the content's: 422.
UNAUTHENTICATED_FIELDS = {"signature", "device_id"}


class DeviceRefused(DomainError):
    status_code = 401

    def __init__(self, message: str, field: str):
        super().__init__(message, field, code="device_unauthenticated")


class Unprocessable(DomainError):
    status_code = 422


class CountsOut(Schema):
    status: str = Field(description="accepted (đã ghi nhận), duplicate (đã nhận trước đây), flagged (chờ kiểm tra)")
    message_id: str = Field(description="Mã tin nhắn của thiết bị")
    reason: str = Field(description="Lý do khi tin nhắn bị đánh dấu nghi ngờ")


REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["device_id", "message_id", "window", "counts"],
                "properties": {
                    "device_id": {"type": "string"},
                    "message_id": {"type": "string", "maxLength": 80},
                    "window": {
                        "type": "object",
                        "properties": {
                            "start": {"type": "string", "format": "date-time"},
                            "end": {"type": "string", "format": "date-time"},
                        },
                    },
                    "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                    "images": {"type": "array", "items": {"type": "string", "maxLength": 500}, "maxItems": 50},
                },
            }
        }
    },
}


@router.post(
    "{device_id}/counts",
    response=CountsOut,
    auth=None,
    summary="Bẫy đèn gửi số lượng côn trùng vào bẫy",
    openapi_extra={
        "requestBody": REQUEST_BODY,
        # No account, so the API's table does not add 401: the device's own credential (the signature) is it.
        "responses": {
            "401": {
                "description": "Thiết bị chưa đăng ký, thiếu hoặc sai chữ ký",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
            }
        },
        "parameters": [
            {
                "in": "header",
                "name": "X-Signature",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "description": "HMAC-SHA256 (hex) của đúng các byte nội dung, khóa là mã bí mật của thiết bị",
            }
        ],
    },
)
def post_counts(request, device_id: str):
    """Nội dung giống tin nhắn MQTT (docs/pests.md): mã thiết bị, mã tin nhắn, khoảng thời gian đếm, số
    lượng theo mã lớp, mã ảnh. Gửi lại cùng tin nhắn: 200 với `status` = duplicate, không tính hai lần.
    Sai chữ ký hoặc thiết bị chưa đăng ký: 401; nội dung sai: 422; mã tin nhắn đã dùng cho nội dung
    khác: 409."""
    PER_DEVICE.check(device_id[:80])
    body = request.body
    if len(body) > MAX_PAYLOAD_BYTES:
        raise Unprocessable(f"Tin nhắn dài quá {MAX_PAYLOAD_BYTES // 1024} KB.", "body")
    result = ingest(body, transport="http", device_id=device_id, signature=request.headers.get("X-Signature"))
    if result.status == "rejected":
        if result.reason == REUSED_ID:
            raise Conflict(result.reason, "message_id")
        if result.field in UNAUTHENTICATED_FIELDS:
            raise DeviceRefused(result.reason, result.field)
        raise Unprocessable(result.reason, result.field or "body")
    return {"status": result.status, "message_id": result.message_id, "reason": result.reason}
