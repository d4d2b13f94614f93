from django.contrib import admin, messages

from chinhquyenso.core.admin import ReadOnlyAdmin
from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """The outbox: what was sent, what is failing and why. Messages are
    written only by the services; a failed one can be sent again."""

    list_display = ["created_at", "channel", "kind", "agency", "state", "attempts", "last_error", "next_attempt_at"]
    list_filter = ["state", "channel", "kind"]
    search_fields = ["kind", "source_id"]
    # The recipient and body may hold personal data: shown on the record, never in lists or searches.
    exclude = ["dedup_key"]
    actions = ["send_again"]

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
