"""`cqs api-token …`: API tokens of the systems that write through the CKAN Action API
(opendata.ckan), one agency each (accounts.ApiToken).

    cqs api-token issue --agency MÃ_CƠ_QUAN --name "TÊN HỆ THỐNG" [--role leader]
    cqs api-token list [--agency MÃ_CƠ_QUAN]
    cqs api-token revoke ĐẦU_MÃ_HOẶC_SỐ

Who acts: the operator running the command, not a user. `accounts.services.issue_api_token` and
`revoke_api_token` ask a user for the province admin's or the agency admin's role; an operator at the
server's shell has no account but already holds the server and its database (as for `cqs
unlock-login`), so the command calls them with `by_operator="cqs api-token"`, the one explicit way
past that check. The audit trail ("api_token.issue", "api_token.revoke") names the command as the
actor. A string given as `actor` is still refused, so the check for users is unchanged.

A token acts as a counter officer of its agency unless issued with `--role leader`: the system then
decides as the agency's leader does (withdraws a dataset through CKAN's package_delete). The role is in
the audit record and in `list`.

The secret is printed once, by `issue`, and never stored (only its SHA-256); `list` shows the key's
first characters (`key_prefix`), never the secret or its hash. `revoke` takes that prefix (with or
without "cqs_") or the token's number from `list`.
"""

from django.core.management.base import CommandError
from django.utils import timezone

from chinhquyenso.accounts import services
from chinhquyenso.accounts.models import ApiToken, Role
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand

OPERATOR = "cqs api-token"


class Command(BaseCommand):
    help = (
        "Khóa API của hệ thống ghi dữ liệu mở qua CKAN Action API: cấp khóa (issue), liệt kê (list), "
        "thu hồi (revoke). Khóa chỉ in ra một lần khi cấp."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="action", metavar="{issue,list,revoke}", required=True, help="Việc cần làm:"
        )
        issue = actions.add_parser(
            "issue",
            help="Cấp khóa API mới cho một hệ thống của cơ quan.",
            description="Cấp khóa API cho một hệ thống của cơ quan đang hoạt động; khóa chỉ in ra một lần.",
        )
        issue.add_argument("--agency", required=True, help="Mã cơ quan (đang hoạt động), ví dụ so-tu-phap.")
        issue.add_argument(
            "--name",
            dest="system_name",
            metavar="TÊN_HỆ_THỐNG",
            required=True,
            help="Tên hệ thống dùng khóa, ví dụ «Phần mềm quản lý hộ tịch».",
        )
        issue.add_argument(
            "--role",
            choices=[role.value for role in services.API_TOKEN_ROLES],
            default=Role.COUNTER_OFFICER.value,
            help="Vai trò của hệ thống trong cơ quan: counter_officer (mặc định: soạn, sửa, gửi duyệt) hoặc "
            "leader (như lãnh đạo cơ quan: rút bộ dữ liệu qua package_delete). Việc cấp được ghi nhật ký.",
        )
        listing = actions.add_parser(
            "list", help="Liệt kê các khóa API (không bao giờ in khóa).", description="Liệt kê các khóa API đã cấp."
        )
        listing.add_argument("--agency", default="", help="Chỉ liệt kê khóa của cơ quan có mã này.")
        revoke = actions.add_parser(
            "revoke",
            help="Thu hồi một khóa API: khóa hết dùng được ngay.",
            description="Thu hồi một khóa API theo đầu mã hoặc số thứ tự (như `cqs api-token list` in ra).",
        )
        revoke.add_argument(
            "key",
            metavar="ĐẦU_MÃ_HOẶC_SỐ",
            help="Đầu mã của khóa (8 ký tự sau «cqs_») hoặc số của khóa trong `cqs api-token list`.",
        )

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_issue(self, *, agency, system_name, role, **options):
        from chinhquyenso.org.models import Agency

        found = Agency.objects.filter(code=agency).first()
        if found is None:
            raise CommandError(f"Không có cơ quan mã «{agency}».")
        if not found.is_current:
            raise CommandError(f"Cơ quan «{found.name}» (mã {agency}) đã hết hiệu lực; không cấp khóa cho cơ quan này.")
        try:
            token, secret = services.issue_api_token(agency=found, name=system_name, by_operator=OPERATOR, role=role)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Đã cấp khóa API số {token.pk} cho «{token.name}» của {found.name} ({found.code}), "
            f"vai trò {Role(role).label.lower()}."
        )
        self.stdout.write("Khóa chỉ hiện MỘT LẦN, hệ thống không lưu lại và không in lại được; hãy lưu ngay:")
        self.stdout.write(secret)

    def handle_list(self, *, agency, **options):
        tokens = (
            ApiToken.objects.select_related("agency")
            .prefetch_related("user__memberships")
            .order_by("agency__code", "created_at", "pk")
        )
        if agency:
            tokens = tokens.filter(agency__code=agency)
        rows = [
            (
                str(token.pk),
                token.name,
                token.agency.code,
                Role(services.api_token_role(token)).label,
                f"cqs_{token.key_prefix}…",
                _when(token.created_at),
                _when(token.revoked_at) if token.revoked_at else "đang dùng",
            )
            for token in tokens
        ]
        if not rows:
            self.stdout.write("Chưa có khóa API nào" + (f" của cơ quan mã «{agency}»." if agency else "."))
            return
        self.stdout.write(
            "\t".join(["Số", "Tên hệ thống", "Mã cơ quan", "Vai trò", "Đầu mã", "Cấp lúc", "Thu hồi lúc"])
        )
        for row in rows:
            self.stdout.write("\t".join(row))

    def handle_revoke(self, *, key, **options):
        token = _find(key)
        if services.revoke_api_token(token=token, by_operator=OPERATOR):
            self.stdout.write(f"Đã thu hồi khóa API số {token.pk} (cqs_{token.key_prefix}…) của «{token.name}».")
        else:
            self.stdout.write(f"Khóa API số {token.pk} (cqs_{token.key_prefix}…) đã bị thu hồi từ trước.")


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def _find(key: str) -> ApiToken:
    """The token named by its key prefix ("cqs_" and a trailing "…" optional) or its number."""
    key = key.strip().removesuffix("…")
    prefix = key.removeprefix("cqs_")
    matches = list(ApiToken.objects.filter(key_prefix=prefix)[:2]) if prefix else []
    if len(matches) > 1:
        raise CommandError(f"Có nhiều khóa cùng đầu mã «{prefix}»; hãy thu hồi theo số của khóa (cqs api-token list).")
    if not matches and key.isdigit():
        matches = list(ApiToken.objects.filter(pk=int(key)))
    if not matches:
        raise CommandError(f"Không có khóa API có đầu mã hoặc số «{key}».")
    return matches[0]
