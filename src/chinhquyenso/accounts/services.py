import datetime as dt
import math
import re
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils import timezone

from chinhquyenso.accounts.models import ApiToken, LoginFailure, Membership, Role, User
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.http import client_ip
from chinhquyenso.core.text import fold, nfc

CITIZEN_ID = re.compile(r"^\d{12}$")
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")


def validate_identity_number(value: str, kind: str, field: str = "identity_number") -> str:
    value = nfc(value).replace(" ", "")
    if kind == User.Kind.CITIZEN and not CITIZEN_ID.match(value):
        raise DomainError("Số định danh cá nhân (CCCD) phải gồm đúng 12 chữ số.", field)
    if kind == User.Kind.ORGANIZATION and not TAX_CODE.match(value):
        raise DomainError("Mã số thuế phải gồm 10 chữ số (hoặc 10 chữ số, dấu gạch và 3 chữ số).", field)
    return value


@transaction.atomic
def create_officer(
    *, actor, username: str, password: str | None, full_name: str, memberships: list[tuple] = (), global_role: str = ""
) -> User:
    username = nfc(username).lower()
    if not username:
        raise DomainError("Tên đăng nhập không được để trống.", "username")
    if User.objects.filter(username=username).exists():
        raise DomainError(f"Tên đăng nhập “{username}” đã tồn tại.", "username")
    user = User(username=username, full_name=nfc(full_name), kind=User.Kind.OFFICER, global_role=global_role)
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    for agency, role in memberships:
        grant(actor=actor, user=user, agency=agency, role=role)
    audit.record(actor=actor, action="user.create", obj=user, after={"kind": user.kind, "global_role": global_role})
    return user


@transaction.atomic
def create_citizen(
    *,
    actor=None,
    identity_number: str,
    full_name: str,
    password: str | None = None,
    kind: str = User.Kind.CITIZEN,
    phone: str = "",
) -> User:
    identity_number = validate_identity_number(identity_number, kind)
    full_name = nfc(full_name)
    if not full_name:
        raise DomainError("Họ và tên không được để trống.", "full_name")
    if User.objects.filter(identity_number=identity_number).exists():
        raise DomainError("Số định danh này đã có tài khoản.", "identity_number")
    user = User(
        username=identity_number, identity_number=identity_number, full_name=full_name, kind=kind, phone=nfc(phone)
    )
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    audit.record(actor=actor or user, action="user.create", obj=user, after={"kind": kind})
    return user


def get_or_create_citizen(
    *, identity_number: str, full_name: str, kind: str = User.Kind.CITIZEN, phone: str = ""
) -> User:
    identity_number = validate_identity_number(identity_number, kind, "applicant.identity_number")
    existing = User.objects.filter(identity_number=identity_number).first()
    if existing:
        return existing
    try:
        with transaction.atomic():  # a savepoint: two first submissions for one new ID race on the username
            return create_citizen(identity_number=identity_number, full_name=full_name, kind=kind, phone=phone)
    except IntegrityError:
        return User.objects.get(identity_number=identity_number)


def grant(*, actor, user: User, agency, role: str) -> Membership:
    if role not in Role.values:
        raise DomainError("Vai trò không hợp lệ.", "role")
    if not agency.is_current:
        raise DomainError(f"Cơ quan “{agency.name}” đã hết hiệu lực.", "agency")
    membership, created = Membership.objects.get_or_create(user=user, agency=agency, role=role)
    if created:
        audit.record(
            actor=actor,
            action="membership.grant",
            obj=membership,
            agency_id=agency.pk,
            after={"user": user.pk, "role": role},
        )
    return membership


def move_memberships(event) -> None:
    """AgencyReorganized: officers of a closed agency now work in its successor."""
    for source_id, successor_id in event.payload["successors"].items():
        for membership in Membership.objects.filter(agency_id=int(source_id)):
            Membership.objects.get_or_create(user_id=membership.user_id, agency_id=successor_id, role=membership.role)
            membership.delete()


class LoginThrottled(DomainError):
    """A sign-in refused before its password is checked; `retry_after` seconds until one is allowed."""

    status_code = 429

    def __init__(self, retry_after: int):
        minutes = -(-retry_after // 60)
        wait = f"{retry_after} giây" if retry_after < 60 else f"{minutes} phút"
        super().__init__(f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {wait}.", "username", code="throttled")
        self.retry_after = retry_after


# Set on the request by login(): the authentication backend refuses a request that did not come this way.
SIGN_IN_MARK = "cqs_sign_in"


def _wait_for_count(failures, limit: int, now, window: dt.timedelta) -> float:
    """Seconds until fewer than `limit` of these failures are left in the window (0: under the limit)."""
    oldest_counted = failures.order_by("-at").values_list("at", flat=True)[limit - 1 : limit].first()
    return (oldest_counted + window - now).total_seconds() if oldest_counted else 0


def login_wait(username: str, ip: str) -> int:
    """Seconds this address must wait before trying this account again (0: it may try now).

    Three limits, so that guessing is slow while nobody can lock an officer out
    by typing their name: per address over every account (one address trying
    many names), per account from one address (locked for that address only),
    and per account from every address, which only spaces tries out."""
    conf = settings.CQS
    now = timezone.now()
    window = dt.timedelta(minutes=conf["LOGIN_WINDOW_MINUTES"])
    recent = LoginFailure.objects.filter(at__gt=now - window)
    account = recent.filter(username_folded=fold(username)[:150])
    waits = [
        _wait_for_count(recent.filter(ip=ip), conf["LOGIN_IP_MAX_FAILURES"], now, window),
        _wait_for_count(account.filter(ip=ip), conf["LOGIN_MAX_FAILURES"], now, window),
    ]
    excess = account.count() - conf["LOGIN_ACCOUNT_SLOW_AFTER"]
    if excess >= 0:
        delay = min(2**excess, conf["LOGIN_ACCOUNT_DELAY_MAX_SECONDS"])
        waits.append((account.latest("at").at + dt.timedelta(seconds=delay) - now).total_seconds())
    wait = max(waits)
    return max(1, math.ceil(wait)) if wait > 0 else 0


def login(request, username: str, password: str) -> User:
    """The one sign-in path (pages, API, admin): throttled per address and
    account (login_wait), the password checked only when allowed, every
    failure audited (the account and address, never what was typed)."""
    ip = client_ip(request)[:45]
    folded = fold(username)[:150]
    wait = login_wait(username, ip)
    if wait:
        raise LoginThrottled(wait)
    # Recorded before the (slow) password check, so parallel tries count against the limits too.
    attempt = LoginFailure.objects.create(username_folded=folded, ip=ip)
    setattr(request, SIGN_IN_MARK, True)
    user = authenticate(request, username=nfc(username).lower(), password=password)
    if user is None:
        target = User.objects.filter(username=nfc(username).lower()).only("pk").first()
        with transaction.atomic():
            audit.record(
                actor=f"chưa đăng nhập ({ip or 'không rõ địa chỉ'})",
                action="user.login_failed",
                object_type="accounts.User" if target else "",
                object_id=target.pk if target else "",
                after={"ip": ip, "account_exists": target is not None},
            )
        # Rows past the window are no longer counted: drop them as new ones come.
        LoginFailure.objects.filter(
            at__lt=attempt.at - dt.timedelta(minutes=settings.CQS["LOGIN_WINDOW_MINUTES"])
        ).delete()
        raise DomainError("Tên đăng nhập hoặc mật khẩu không đúng.", "password")
    # Only this address's failures for this account: the per-address and per-account counts stay.
    LoginFailure.objects.filter(username_folded=folded, ip=ip).delete()
    return user


@transaction.atomic
def unlock_login(*, actor, username: str = "", ip: str = "") -> int:
    """An operator's unlock: forget the recorded failures of an account, of an
    address, or of the account from that address; returns how many. Audited."""
    if not username and not ip:
        raise DomainError("Cần tên đăng nhập hoặc địa chỉ IP cần mở khoá.", "username")
    failures = LoginFailure.objects.all()
    if username:
        failures = failures.filter(username_folded=fold(username)[:150])
    if ip:
        failures = failures.filter(ip=ip)
    deleted, _ = failures.delete()
    audit.record(
        actor=actor, action="user.login_unlocked", object_type="accounts.User", after={"username": username, "ip": ip}
    )
    return deleted


@transaction.atomic
def issue_api_token(*, actor, agency, name: str) -> tuple[ApiToken, str]:
    """Returns the token and its secret (shown once)."""
    from chinhquyenso.accounts.selectors import has_role, sees_whole_province

    if not (sees_whole_province(actor) and actor.global_role == "province_admin") and not has_role(
        actor, agency.pk, Role.AGENCY_ADMIN
    ):
        raise PermissionDenied()
    secret = "cqs_" + secrets.token_urlsafe(32)
    system_user = User.objects.create(
        username=f"system-{secrets.token_hex(6)}", full_name=nfc(name), kind=User.Kind.OFFICER
    )
    system_user.set_unusable_password()
    system_user.save()
    Membership.objects.create(user=system_user, agency=agency, role=Role.COUNTER_OFFICER)
    token = ApiToken.objects.create(
        name=nfc(name), agency=agency, user=system_user, key_prefix=secret[4:12], key_hash=ApiToken.hash_secret(secret)
    )
    audit.record(actor=actor, action="api_token.issue", obj=token, agency_id=agency.pk, after={"name": token.name})
    return token, secret


def user_for_token(secret: str) -> User | None:
    token = (
        ApiToken.objects.filter(key_hash=ApiToken.hash_secret(secret), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    return token.user if token else None


def record_admin_edit(*, actor, user: User, created: bool) -> None:
    """Audit a change made in the admin pages (roles and memberships, never passwords or personal data)."""
    memberships = sorted(f"{agency_id}:{role}" for agency_id, role in user.memberships.values_list("agency_id", "role"))
    audit.record(
        actor=actor,
        action="user.create" if created else "user.update",
        obj=user,
        after={
            "kind": user.kind,
            "global_role": user.global_role,
            "is_active": user.is_active,
            "memberships": memberships,
            "via": "admin",
        },
    )
