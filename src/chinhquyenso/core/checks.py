"""System checks of the installation's own settings (`cqs check --deploy`),
also run when a production web or worker process starts (`require_ready`)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security, deploy=True)
def site_url(app_configs=None, **kwargs):
    """Links in e-mails and SMS are CQS_SITE_URL + path: without it a recipient gets a link nobody can open."""
    value = settings.CQS.get("SITE_URL", "")
    parts = urlsplit(value)
    if not value or parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return [
            checks.Error(
                "CQS_SITE_URL chưa đặt hoặc không phải địa chỉ gốc http(s)://tên-miền: "
                "đường dẫn trong thư điện tử, tin nhắn không mở được.",
                hint="Đặt CQS_SITE_URL, ví dụ https://dichvucong.example.gov.vn (xem docs/operations.md).",
                id="cqs.E001",
            )
        ]
    if parts.scheme != "https":
        return [checks.Warning("CQS_SITE_URL nên dùng https.", id="cqs.W001")]
    return []


def require_ready() -> None:
    """Refuse to start a production process whose settings fail a check of
    this project (errors only; Django's own deploy warnings are for the
    operator and `cqs check --deploy`)."""
    if settings.DEBUG:
        return
    errors = [e for e in site_url() if e.level >= checks.ERROR]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in errors))
