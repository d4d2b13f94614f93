from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from chinhquyenso.accounts import services
from chinhquyenso.accounts.models import ApiToken, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["agency"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "kind", "global_role", "is_active"]
    list_filter = ["kind", "global_role", "is_active"]
    search_fields = ["username", "full_name"]
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Chính quyền số", {"fields": ["kind", "full_name", "identity_number", "phone", "global_role"]}),
    )
    inlines = [MembershipInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.record_admin_edit(actor=request.user, user=form.instance, created=not change)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "key_prefix", "created_at", "revoked_at"]
    readonly_fields = ["key_prefix", "key_hash"]
