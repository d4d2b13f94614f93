from django.core.exceptions import RequestDataTooBig


class DomainError(Exception):
    """A rule was broken; the message is Vietnamese and shown to the user as is.

    `field` names the offending input (a form field, API field or row) so a
    client can put the message next to it.
    """

    status_code = 400

    def __init__(self, message: str, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict:
        return {"detail": self.message, "field": self.field, "code": self.code}


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "Không tìm thấy.", field: str | None = None):
        super().__init__(message, field, code="not_found")


class PermissionDenied(DomainError):
    status_code = 403

    def __init__(self, message: str = "Bạn không có quyền thực hiện thao tác này.", field: str | None = None):
        super().__init__(message, field, code="forbidden")


class Conflict(DomainError):
    status_code = 409

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field, code="conflict")


class PayloadTooLarge(DomainError, RequestDataTooBig):
    """A request or an upload over the size the platform accepts (413).

    Also Django's own RequestDataTooBig (a body over DATA_UPLOAD_MAX_MEMORY_SIZE),
    so whatever renders that one renders this one, and Django's last resort
    is a 400, never a 500."""

    status_code = 413

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field, code="too_large")
