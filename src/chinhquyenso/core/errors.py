import errno

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


# The operating system's own text (error.strerror) is English; a user sees these instead.
_OS_REASONS = {
    errno.ENOENT: "không có tệp hoặc thư mục này",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không có quyền truy cập",
    errno.EISDIR: "đây là một thư mục, không phải tệp",
    errno.ENOTDIR: "một phần của đường dẫn không phải là thư mục",
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EDQUOT: "đã hết hạn mức dung lượng",
    errno.EROFS: "ổ đĩa chỉ cho phép đọc",
    errno.ENAMETOOLONG: "tên tệp quá dài",
    errno.EMFILE: "đang mở quá nhiều tệp",
    errno.EIO: "lỗi đọc/ghi thiết bị lưu trữ",
}


def os_reason(error: OSError) -> str:
    """Why a file could not be read or written, in Vietnamese (never the
    operating system's English)."""
    return _OS_REASONS.get(error.errno, f"lỗi hệ thống tệp (mã {error.errno})" if error.errno else "lỗi hệ thống tệp")
