from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, Permission

from chinhquyenso.accounts import services
from chinhquyenso.accounts.models import ApiToken, Membership, User

# Django writes its default permissions' names in English when it creates them ("Can add …", from
# the models' names of that moment); they are shown in Vietnamese, named by the model's Vietnamese name.
PERMISSION_ACTIONS = {"add": "Được thêm", "change": "Được sửa", "delete": "Được xóa", "view": "Được xem"}


def permission_label(permission: Permission) -> str:
    """«Thủ tục hành chính | thủ tục hành chính | Được sửa thủ tục hành chính»; a permission of the
    project's own (not one of the four Django creates) keeps the name it was given."""
    content_type = permission.content_type
    model = content_type.model_class()
    action, _, model_name = permission.codename.partition("_")
    if model is not None and action in PERMISSION_ACTIONS and model_name == model._meta.model_name:
        name = f"{PERMISSION_ACTIONS[action]} {model._meta.verbose_name}"
    else:
        name = permission.name
    return f"{content_type} | {name}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class VietnamesePermissions:
    """ModelAdmin mixin: the permissions' list shows permission_label."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is Permission:
            kwargs["form_class"] = PermissionChoiceField
            kwargs.setdefault("queryset", Permission.objects.select_related("content_type"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["agency"]


@admin.register(User)
class UserAdmin(VietnamesePermissions, BaseUserAdmin):
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


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(VietnamesePermissions, BaseGroupAdmin):
    pass
