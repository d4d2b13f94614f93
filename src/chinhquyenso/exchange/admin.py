from django import forms
from django.contrib import admin, messages

from chinhquyenso.core.admin import CodeFilter, ReadOnlyAdmin
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.registry import MESSAGE_KINDS
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import (
    BusAccessRight,
    BusMember,
    BusOperation,
    BusService,
    BusSubsystem,
    Message,
    NotificationConsent,
)


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


# --- The data bus's registry (exchange.bus.registry): edited by the province administrator ---------
# Every save and delete is audited as "exchange.<model>.<create|update|delete>" (labels.py); the
# registry's cache is rebuilt after each change (signals connected in ExchangeConfig.ready).


def _audited_values(obj, form) -> dict:
    from chinhquyenso.exchange.bus import keys

    after = {}
    for name in sorted(form.changed_data):
        value = form.cleaned_data.get(name)
        if name == "certificate":
            try:
                value = f"x5t#S256={keys.thumbprint(value)}" if value else ""
            except ValueError:
                value = "(không đọc được)"
        after[name] = str(value)[:300]
    return {"fields": after, "via": "admin"}


class BusRegistryAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        from chinhquyenso.core import audit

        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=f"exchange.{obj._meta.model_name}.{'update' if change else 'create'}",
            obj=obj,
            after=_audited_values(obj, form),
        )

    def delete_model(self, request, obj):
        from chinhquyenso.core import audit

        audit.record(actor=request.user, action=f"exchange.{obj._meta.model_name}.delete", obj=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        from chinhquyenso.core import audit

        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            audit.record(actor=request.user, action=f"exchange.{obj._meta.model_name}.delete", obj=obj)
            obj.delete()
        for inline_form in formset.forms:
            obj = inline_form.instance
            if obj in instances:
                created = obj.pk is None
                obj.save()
                audit.record(
                    actor=request.user,
                    action=f"exchange.{obj._meta.model_name}.{'create' if created else 'update'}",
                    obj=obj,
                    after=_audited_values(obj, inline_form),
                )
        formset.save_m2m()


class BusSubsystemInline(admin.TabularInline):
    model = BusSubsystem
    fields = ["code", "name", "local", "active"]
    extra = 0
    show_change_link = True


@admin.register(BusMember)
class BusMemberAdmin(BusRegistryAdmin):
    """Members of the bus: this province, ministries, national platforms."""

    list_display = ["name", "member_class", "code", "instance", "agency", "active"]
    list_filter = ["member_class", "active"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["agency"]
    inlines = [BusSubsystemInline]


class BusServiceInline(admin.TabularInline):
    model = BusService
    fields = ["code", "version", "name", "timeout_seconds", "active"]
    extra = 0
    show_change_link = True


@admin.register(BusSubsystem)
class BusSubsystemAdmin(BusRegistryAdmin):
    """A member's system, with the certificate its requests are signed with."""

    list_display = ["name", "code", "member", "local", "has_certificate", "active"]
    list_filter = ["local", "active", "member__member_class"]
    search_fields = ["name", "code", "member__name", "member__code"]
    list_select_related = ["member"]
    fields = ["member", "code", "name", "local", "base_url", "address_setting", "certificate", "active"]
    inlines = [BusServiceInline]

    @admin.display(description="đã đăng ký chứng thư", boolean=True)
    def has_certificate(self, subsystem):
        return bool(subsystem.certificate.strip())

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        original = form.clean_certificate if hasattr(form, "clean_certificate") else None

        def clean_certificate(self):
            from cryptography import x509
            from django.core.exceptions import ValidationError

            value = (original(self) if original else self.cleaned_data.get("certificate", "")).strip()
            if value:
                try:
                    x509.load_pem_x509_certificate(value.encode())
                except ValueError:
                    raise ValidationError(
                        "Chứng thư số không đọc được: cần dán nội dung PEM "
                        "(-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)."
                    ) from None
            return value

        form.clean_certificate = clean_certificate
        return form


class BusOperationInline(admin.StackedInline):
    model = BusOperation
    fields = ["code", "name", "method", "path", "request_schema", "response_schema"]
    extra = 0


@admin.register(BusService)
class BusServiceAdmin(BusRegistryAdmin):
    """A service in one version, with its operations and their JSON Schemas."""

    list_display = ["name", "code", "version", "subsystem", "timeout_seconds", "active"]
    list_filter = ["active", "version"]
    search_fields = ["name", "code", "subsystem__code", "subsystem__member__code"]
    list_select_related = ["subsystem__member"]
    inlines = [BusOperationInline]


class BusAccessRightForm(forms.ModelForm):
    class Meta:
        model = BusAccessRight
        exclude = ["granted_by"]

    def clean(self):
        data = super().clean()
        operation, service = data.get("operation"), data.get("service")
        if operation is not None and service is not None and operation.service_id != service.pk:
            self.add_error("operation", "Thao tác đã chọn không thuộc dịch vụ này.")
        return data


@admin.register(BusAccessRight)
class BusAccessRightAdmin(BusRegistryAdmin):
    """Who may call what: a client subsystem, a service, every operation or the one named."""

    list_display = ["client", "service", "operation", "granted_at", "granted_by", "note"]
    list_filter = ["service"]
    search_fields = ["client__code", "client__member__code", "service__code", "note"]
    list_select_related = ["client__member", "service__subsystem__member", "operation", "granted_by"]
    raw_id_fields = ["client", "service", "operation"]
    form = BusAccessRightForm

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
