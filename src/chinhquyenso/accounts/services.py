import datetime as dt
import math
import re
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils import timezone

from chinhquyenso.accounts.models import ApiToken, IdentityLink, LoginFailure, Membership, PasswordLink, Role, User
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


CITIZENS_USE_VNEID = (
    "Công dân, tổ chức đăng nhập bằng tài khoản định danh điện tử (VNeID): "
    "hãy bấm “Đăng nhập bằng VNeID”. Tên đăng nhập và mật khẩu chỉ dành cho cán bộ, công chức."
)


def _citizen_name(username: str) -> bool:
    """Whether the name is a citizen's or organization's account (their password sign-in may be switched off)."""
    return User.objects.filter(username=nfc(username).lower()).exclude(kind=User.Kind.OFFICER).exists()


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
    if not settings.CQS.get("CITIZEN_PASSWORD_LOGIN", True) and _citizen_name(username):
        # Citizens sign in through the national identity only; nothing is checked, so nothing is learned.
        raise DomainError(CITIZENS_USE_VNEID, "username", code="citizen_password_off")
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


# The roles a system's token may act in within its agency. By default a counter officer's: the system drafts,
# edits and sends datasets or dossiers for approval as the agency's officers do. A leader's lets the system
# decide as the agency's leader does (withdraw a dataset with CKAN's package_delete, approve): only the province
# administrator (or an operator at the server) grants it, never the agency's own admin, as for a person.
API_TOKEN_ROLES = (Role.COUNTER_OFFICER, Role.LEADER)
API_TOKEN_LEADER_MESSAGE = "Chỉ quản trị tỉnh mới được cấp khóa API có quyền lãnh đạo cơ quan."


@transaction.atomic
def issue_api_token(
    *, actor=None, agency, name: str, by_operator: str | None = None, role: str = Role.COUNTER_OFFICER
) -> tuple[ApiToken, str]:
    """Returns the token and its secret (shown once). Audited ("api_token.issue", with the role).

    `actor`, a user, must be the province admin or an admin of `agency`; a token with the leader's `role`
    (API_TOKEN_ROLES), the province admin only. `by_operator` names an operator's command run on the server
    instead (`"cqs api-token"`, with no `actor`): whoever can run it already holds the server and its
    database, so no role is asked of it, and the audit trail names the command. A string passed as `actor`
    is not an operator: it has no role and is refused."""
    from chinhquyenso.accounts.selectors import is_province_admin

    if role not in API_TOKEN_ROLES:
        raise DomainError("Khóa API chỉ cấp với vai trò cán bộ một cửa (mặc định) hoặc lãnh đạo cơ quan.", "role")
    if by_operator is not None:
        if actor is not None or not by_operator.strip():
            raise ValueError("by_operator names a command and replaces actor")
        actor = by_operator
    elif not _may_manage_api_tokens(actor, agency):
        raise PermissionDenied()
    elif role == Role.LEADER and not is_province_admin(actor):
        raise PermissionDenied(API_TOKEN_LEADER_MESSAGE)
    if not agency.is_current:
        raise DomainError(f"Cơ quan “{agency.name}” đã hết hiệu lực.", "agency")
    name = nfc(name).strip()
    if not name:
        raise DomainError("Tên hệ thống không được để trống.", "name")
    secret = "cqs_" + secrets.token_urlsafe(32)
    system_user = User.objects.create(username=f"system-{secrets.token_hex(6)}", full_name=name, kind=User.Kind.OFFICER)
    system_user.set_unusable_password()
    system_user.save()
    Membership.objects.create(user=system_user, agency=agency, role=role)
    token = ApiToken.objects.create(
        name=name, agency=agency, user=system_user, key_prefix=secret[4:12], key_hash=ApiToken.hash_secret(secret)
    )
    audit.record(
        actor=actor,
        action="api_token.issue",
        obj=token,
        agency_id=agency.pk,
        after={"name": token.name, "role": str(role)},
    )
    return token, secret


def api_token_role(token: ApiToken) -> str:
    """The role the token's system acts in within its agency (API_TOKEN_ROLES)."""
    roles = {membership.role for membership in token.user.memberships.all() if membership.agency_id == token.agency_id}
    return Role.LEADER if Role.LEADER in roles else Role.COUNTER_OFFICER


def _may_manage_api_tokens(user, agency) -> bool:
    from chinhquyenso.accounts.selectors import has_role, sees_whole_province

    return (sees_whole_province(user) and user.global_role == "province_admin") or has_role(
        user, agency.pk, Role.AGENCY_ADMIN
    )


@transaction.atomic
def revoke_api_token(*, actor=None, token: ApiToken, by_operator: str | None = None) -> bool:
    """Revoke the token now (its secret stops working at once); False when it already was. Audited
    ("api_token.revoke"). Who may: as issue_api_token."""
    if by_operator is not None:
        if actor is not None or not by_operator.strip():
            raise ValueError("by_operator names a command and replaces actor")
        actor = by_operator
    elif not _may_manage_api_tokens(actor, token.agency):
        raise PermissionDenied()
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        actor=actor, action="api_token.revoke", obj=token, agency_id=token.agency_id, after={"name": token.name}
    )
    return True


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


# ---------------------------------------------------------------- sign-in with the national identity


OFFICER_NOT_TAKEN_OVER = (
    "Số định danh này thuộc một tài khoản cán bộ, công chức, nên không đăng nhập được bằng {provider}. "
    "Cán bộ, công chức đăng nhập bằng tên đăng nhập và mật khẩu do quản trị cơ quan cấp."
)


def sign_in_with_identity(
    *,
    issuer: str,
    subject: str,
    identity_number: str,
    full_name: str,
    phone: str = "",
    ip: str = "",
    provider: str = "VNeID",
) -> User:
    """The account of a person the identity provider vouched for (accounts.oidc.complete has verified
    the ID token): the one linked to this issuer and subject; else the citizen account with the same
    citizen ID, now linked; else a new citizen account. An officer's account is never taken over,
    and an account linked to another identity or switched off is refused. Audited."""
    if not issuer or not subject:
        raise DomainError(f"{provider} không gửi mã người dùng; chưa đăng nhập được.", "", code="oidc_claims")
    identity_number = nfc(identity_number).replace(" ", "")
    if not CITIZEN_ID.match(identity_number):
        raise DomainError(
            f"{provider} không gửi số định danh cá nhân hợp lệ (12 chữ số); chưa đăng nhập được.",
            "",
            code="oidc_claims",
        )
    full_name = nfc(full_name)[:150]
    actor = f"{provider} ({ip or 'không rõ địa chỉ'})"
    for attempt in range(2):  # a second pass after losing a race with another first sign-in of this person
        try:
            with transaction.atomic():
                return _sign_in_with_identity(
                    issuer=issuer[:255],
                    subject=subject[:255],
                    identity_number=identity_number,
                    full_name=full_name,
                    phone=phone,
                    actor=actor,
                    provider=provider,
                )
        except (IntegrityError, _LostRace):
            if attempt:
                raise
        except _Refused as refused:
            with transaction.atomic():  # the refusal is recorded; nothing of the sign-in is kept
                audit.record(
                    actor=actor,
                    action="user.login_oidc_refused",
                    obj=refused.user,
                    after={"issuer": issuer, "reason": refused.reason},
                )
            raise DomainError(refused.message, "", code=f"oidc_{refused.reason}") from None
    raise AssertionError("unreachable")


class _LostRace(Exception):
    """Another transaction created this person's account between our look and our insert."""


class _Refused(Exception):
    def __init__(self, user, reason: str, message: str):
        super().__init__(reason)
        self.user, self.reason, self.message = user, reason, message


def _sign_in_with_identity(*, issuer, subject, identity_number, full_name, phone, actor, provider) -> User:
    now = timezone.now()
    link = IdentityLink.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if link is not None and not link.user.identity_number and not link.user.is_active:
        # The account was erased at the person's request (privacy): the link goes too; they start afresh.
        link.delete()
        link = None
    user = link.user if link else User.objects.filter(identity_number=identity_number).first()
    if user is not None and user.kind != User.Kind.CITIZEN:
        raise _Refused(user, "officer", OFFICER_NOT_TAKEN_OVER.format(provider=provider))
    if user is not None and user.identity_number != identity_number:
        message = f"Tài khoản gắn với {provider} này mang số định danh khác. Vui lòng liên hệ bộ phận một cửa."
        raise _Refused(user, "mismatch", message)
    if user is not None and not user.is_active:
        raise _Refused(user, "inactive", "Tài khoản này đã bị khóa. Vui lòng liên hệ bộ phận một cửa.")
    created = user is None
    if created:
        if not full_name:
            raise DomainError(f"{provider} không gửi họ và tên; chưa đăng nhập được.", "", code="oidc_claims")
        try:
            user = create_citizen(actor=actor, identity_number=identity_number, full_name=full_name)
        except DomainError as error:
            if error.field != "identity_number":
                raise
            raise _LostRace from None  # another first sign-in of this person committed the account meanwhile
    changed = []
    if full_name and not user.full_name:
        user.full_name = full_name
        changed.append("full_name")
    digits = re.sub(r"\D", "", phone or "")
    if digits and not user.phone and 9 <= len(digits) <= 15:
        user.phone = ("0" + digits[2:]) if digits.startswith("84") and len(digits) == 11 else digits
        changed.append("phone")
    if changed:
        user.save(update_fields=changed)
    linked = link is None
    if link is None:
        link = IdentityLink.objects.create(issuer=issuer, subject=subject, user=user, last_seen=now)
    else:
        IdentityLink.objects.filter(pk=link.pk).update(last_seen=now)
    user.last_login = now
    user.save(update_fields=["last_login"])
    audit.record(
        actor=user,
        action="user.login_oidc",
        obj=user,
        after={"issuer": issuer, "account_created": created, "linked": linked, "filled": changed},
    )
    return user


# ---------------------------------------------------------------- officers' accounts by the agency administrator


def administered_agency_ids(actor) -> set[int]:
    """The agencies whose officers' accounts `actor` manages: those where they are the agency
    administrator (Role.AGENCY_ADMIN); every agency for the province administrator."""
    from chinhquyenso.accounts.selectors import agency_ids, is_province_admin
    from chinhquyenso.org.models import Agency

    if getattr(actor, "is_citizen", True):
        return set()
    if is_province_admin(actor):
        return set(Agency.objects.current().values_list("pk", flat=True))
    return agency_ids(actor, [Role.AGENCY_ADMIN])


def _require_admin_of(actor, agency_id) -> None:
    if agency_id not in administered_agency_ids(actor):
        raise PermissionDenied("Chỉ quản trị của cơ quan này mới được quản lý tài khoản cán bộ của cơ quan.")


class PasswordLinkIssued:
    """What the caller needs to send the link: its secret (never stored, never logged) and expiry."""

    def __init__(self, link, secret: str, agency_id=None):
        self.link, self.secret, self.agency_id = link, secret, agency_id

    @property
    def path(self) -> str:
        return f"/can-bo/dat-mat-khau/{self.secret}/"


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@transaction.atomic
def register_officer(
    *, actor, agency, username: str, full_name: str, role: str, email: str = "", phone: str = ""
) -> tuple[User, PasswordLinkIssued]:
    """An agency administrator registers an officer of their agency with one role. The account has
    no password: the officer sets one through the one-time link (returned, for the caller to send
    through the outbox in this transaction)."""
    from chinhquyenso.accounts.selectors import is_province_admin

    _require_admin_of(actor, agency.pk)
    username = nfc(username).strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{2,59}", username):
        raise DomainError(
            "Tên đăng nhập gồm 3–60 chữ cái không dấu, chữ số, dấu chấm, gạch ngang hoặc gạch dưới.", "username"
        )
    if CITIZEN_ID.match(username) or TAX_CODE.match(username):
        raise DomainError("Tên đăng nhập của cán bộ không được là một số định danh hay mã số thuế.", "username")
    full_name = nfc(full_name).strip()
    if not full_name:
        raise DomainError("Họ và tên không được để trống.", "full_name")
    if role not in Role.values:
        raise DomainError("Vai trò không hợp lệ.", "role")
    if role == Role.AGENCY_ADMIN and not is_province_admin(actor):
        raise DomainError("Chỉ quản trị tỉnh mới giao vai trò quản trị cơ quan.", "role")
    email, phone = nfc(email).strip().lower(), re.sub(r"\D", "", phone or "")
    if email and not EMAIL.match(email):
        raise DomainError("Địa chỉ thư điện tử không hợp lệ.", "email")
    if not email:
        raise DomainError("Cần địa chỉ thư điện tử công vụ để gửi liên kết đặt mật khẩu.", "email")
    if phone and not 9 <= len(phone) <= 15:
        raise DomainError("Số điện thoại không hợp lệ.", "phone")
    user = create_officer(actor=actor, username=username, password=None, full_name=full_name)
    user.email, user.phone = email, phone
    user.save(update_fields=["email", "phone"])
    grant(actor=actor, user=user, agency=agency, role=role)
    return user, issue_password_link(actor=actor, user=user, purpose="register", agency_id=agency.pk)


def officers_of(actor):
    """The officers of the agencies `actor` administers (for the accounts page)."""
    from django.db.models import Prefetch

    ids = administered_agency_ids(actor)
    return (
        User.objects.filter(kind=User.Kind.OFFICER, memberships__agency_id__in=ids, is_active=True)
        .exclude(username__startswith="system-")
        .distinct()
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(agency_id__in=ids).select_related("agency").order_by("agency__name"),
                to_attr="managed_memberships",
            )
        )
        .order_by("full_name", "username")
    )


@transaction.atomic
def reset_officer_password(*, actor, user_id: int) -> tuple[User, PasswordLinkIssued]:
    """The agency administrator resets the password of an officer of their agency: the old password
    stops working at once (signed-in sessions end), and a one-time link lets the officer set a new
    one before signing in again. The province's administrators and auditors are reset only by the
    province administrator."""
    from chinhquyenso.accounts.selectors import is_province_admin

    user = User.objects.select_for_update().filter(pk=user_id, kind=User.Kind.OFFICER).first()
    managed = administered_agency_ids(actor)
    if user is None or not user.memberships.filter(agency_id__in=managed).exists():
        raise PermissionDenied("Chỉ quản trị của cơ quan nơi cán bộ công tác mới được đặt lại mật khẩu.")
    if (user.global_role or user.is_superuser or user.is_staff) and not is_province_admin(actor):
        raise PermissionDenied("Mật khẩu của tài khoản quản trị, giám sát toàn tỉnh do quản trị tỉnh đặt lại.")
    if not user.email:
        raise DomainError(
            "Tài khoản chưa có địa chỉ thư điện tử để gửi liên kết đặt mật khẩu; hãy nhờ quản trị tỉnh cập nhật.",
            "email",
        )
    user.set_unusable_password()  # also changes the session hash: the officer's open sessions end
    user.save(update_fields=["password"])
    agency_id = user.memberships.filter(agency_id__in=managed).values_list("agency_id", flat=True).first()
    return user, issue_password_link(actor=actor, user=user, purpose="reset", agency_id=agency_id)


def issue_password_link(*, actor, user: User, purpose: str, agency_id=None) -> PasswordLinkIssued:
    """A one-time link for `user` to set a password; earlier unused links of the user stop working."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_password_link runs inside the transaction that sends the link")
    now = timezone.now()
    PasswordLink.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    secret = secrets.token_urlsafe(32)
    link = PasswordLink.objects.create(
        user=user,
        purpose=purpose,
        key_hash=ApiToken.hash_secret(secret),
        created_by=actor if getattr(actor, "pk", None) else None,
        expires_at=now + dt.timedelta(hours=settings.CQS.get("PASSWORD_LINK_HOURS", 48)),
    )
    audit.record(
        actor=actor,
        action=f"user.password_link_{purpose}",
        obj=user,
        agency_id=agency_id,
        after={"expires_at": link.expires_at.isoformat()},
    )
    return PasswordLinkIssued(link, secret, agency_id)


LINK_INVALID = (
    "Liên kết đặt mật khẩu không đúng, đã dùng hoặc đã hết hạn. Hãy đề nghị quản trị cơ quan gửi liên kết mới."
)


def password_link(secret: str):
    """The unused, unexpired link with this secret, or None."""
    if not secret or len(secret) > 100:
        return None
    return (
        PasswordLink.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_secret(secret), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def set_password_with_link(*, secret: str, password: str, password_again: str) -> User:
    """The officer sets their password through the one-time link. Django's password validators apply
    (length, common passwords, not only digits, not like the name); the link is spent by a conditional
    UPDATE, so two submissions of it at once set the password once."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    link = password_link(secret)
    if link is None:
        raise DomainError(LINK_INVALID, "password")
    if password != password_again:
        raise DomainError("Hai lần nhập mật khẩu không khớp nhau.", "password_again")
    try:
        validate_password(password, link.user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), "password") from None
    with transaction.atomic():
        spent = PasswordLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
        if not spent:
            raise DomainError(LINK_INVALID, "password")
        user = User.objects.select_for_update().get(pk=link.user_id)
        if not user.is_active:
            raise DomainError(LINK_INVALID, "password")
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(actor=user, action="user.password_set", obj=user, after={"via": link.purpose})
    return user
