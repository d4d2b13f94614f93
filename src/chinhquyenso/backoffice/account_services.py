"""Officers' accounts by their agency administrator: the account's change (accounts.services) and the
e-mail with the one-time "set your password" link, in one transaction. The link travels only in the
message's body, which the outbox erases once sent (secret=True); it is never logged nor shown to the
administrator."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from chinhquyenso.accounts import services as accounts
from chinhquyenso.exchange import outbox


def _send_link(user, issued: accounts.PasswordLinkIssued, *, agency_id, purpose: str) -> None:
    expires = timezone.localtime(issued.link.expires_at).strftime("%H:%M %d/%m/%Y")
    opening = (
        "Tài khoản cán bộ của anh/chị trên hệ thống dịch vụ công đã được tạo."
        if purpose == "register"
        else "Quản trị cơ quan đã đặt lại mật khẩu tài khoản cán bộ của anh/chị; mật khẩu cũ không còn dùng được."
    )
    outbox.enqueue(
        channel="email",
        recipient=user.email,
        user=user,
        agency_id=agency_id,
        kind="accounts.password_link",
        subject="Đặt mật khẩu tài khoản cán bộ",
        body=(
            f"Kính gửi {user.display_name},\n\n{opening}\n"
            f"Tên đăng nhập: {user.username}\n\n"
            f"Bấm vào liên kết sau để tự đặt mật khẩu (dùng được một lần, đến {expires}):\n"
            f"{outbox.absolute_url(issued.path)}\n\n"
            "Không chuyển tiếp thư này cho người khác. Nếu anh/chị không đề nghị, hãy báo quản trị cơ quan."
        ),
        source=user,
        urgent=True,
        secret=True,
    )


def register_officer(*, actor, agency, **fields):
    with transaction.atomic():
        user, issued = accounts.register_officer(actor=actor, agency=agency, **fields)
        _send_link(user, issued, agency_id=issued.agency_id, purpose="register")
    return user, issued.link


def reset_officer_password(*, actor, user_id: int):
    with transaction.atomic():
        user, issued = accounts.reset_officer_password(actor=actor, user_id=user_id)
        _send_link(user, issued, agency_id=issued.agency_id, purpose="reset")
    return user, issued.link
