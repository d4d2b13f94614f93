from django.contrib import admin, messages

from chinhquyenso.core.admin import CodeFilter, ReadOnlyAdmin
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.registry import MESSAGE_KINDS
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message, NotificationConsent


class KindFilter(CodeFilter):
    title = "loại"
    parameter_name = "kind"
    labels = MESSAGE_KINDS


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """The outbox: what was sent, what is failing and why. Messages are
    written only by the services; a failed one can be sent again."""

    list_display = [
        "created_at",
        "channel",
        "kind_name",
        "agency",
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
    ]
    list_filter = ["state", "channel", KindFilter]
    search_fields = ["kind", "source_id"]
    # The recipient and body may hold personal data: shown on the record, never in lists or searches.
    exclude = ["dedup_key"]
    readonly_fields = ["kind_name"]
    actions = ["send_again"]

    def get_fields(self, request, obj=None):
        # The kind by its name, where the field stands.
        fields = [f for f in super().get_fields(request, obj) if f != "kind_name"]
        return ["kind_name" if f == "kind" else f for f in fields]

    @admin.display(description="loại", ordering="kind")
    def kind_name(self, message):
        return MESSAGE_KINDS.display(message.kind)

    @admin.action(description="Gửi lại các thư, tin nhắn gửi lỗi đã chọn")
    def send_again(self, request, queryset):
        done = 0
        for message in queryset.filter(state__in=[Message.State.FAILED, Message.State.DEAD]):
            try:
                outbox.retry(message, actor=request.user)
                done += 1
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
        self.message_user(request, f"Đã đưa {done} thư, tin nhắn vào hàng đợi gửi lại.", messages.SUCCESS)


@admin.register(NotificationConsent)
class NotificationConsentAdmin(ReadOnlyAdmin):
    """Citizens' consent to SMS, e-mail and Zalo notices: given and withdrawn by the citizens
    themselves (/ca-nhan/thong-bao/cai-dat/), read here. The account and address are personal
    data: shown on the record, never in lists or searches."""

    list_display = ["id", "channel", "given_at", "withdrawn_at"]
    list_filter = ["channel"]
