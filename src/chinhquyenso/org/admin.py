"""Agencies are versioned: the admin creates them through org.services and
changes their structure only through a reorganization (rename, merge,
dissolve, move), never by editing a row in place."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from chinhquyenso.core.errors import DomainError
from chinhquyenso.org import services
from chinhquyenso.org.models import Agency, AgencyKind, Reorganization, Succession

STRUCTURE = ["code", "name", "kind", "parent", "electronic_code", "admin_unit_code", "valid_from", "valid_to"]


class ReorganizationForm(forms.Form):
    kind = forms.ChoiceField(
        label="Loại sắp xếp",
        choices=[
            (k.value, k.label)
            for k in (
                Reorganization.Kind.RENAME,
                Reorganization.Kind.MERGE,
                Reorganization.Kind.DISSOLVE,
                Reorganization.Kind.MOVE,
            )
        ],
    )
    sources = forms.ModelMultipleChoiceField(
        label="Cơ quan được sắp xếp",
        queryset=Agency.objects.current(),
        help_text="Hợp nhất: chọn từ hai cơ quan; các loại khác: một cơ quan.",
    )
    name = forms.CharField(label="Tên mới", required=False, max_length=255)
    new_kind = forms.ChoiceField(
        label="Loại cơ quan mới (hợp nhất)", choices=[("", "—"), *AgencyKind.choices], required=False
    )
    parent = forms.ModelChoiceField(
        label="Cơ quan cấp trên (hợp nhất, chuyển)", queryset=Agency.objects.current(), required=False
    )
    successor = forms.ModelChoiceField(
        label="Cơ quan tiếp nhận (giải thể)", queryset=Agency.objects.current(), required=False
    )
    effective_date = forms.DateField(
        label="Ngày hiệu lực", initial=dt.date.today, widget=forms.DateInput(attrs={"type": "date"})
    )
    legal_basis = forms.CharField(label="Căn cứ (số quyết định, nghị quyết)", required=False, max_length=255)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "electronic_code", "admin_unit_code", "parent", "valid_from", "valid_to"]
    list_filter = ["kind", "valid_to"]
    search_fields = ["name", "name_folded", "electronic_code", "admin_unit_code"]
    fields = ["name", "kind", "parent", "electronic_code", "admin_unit_code", "valid_from", "valid_to", "code"]
    readonly_fields = ["valid_to", "code"]

    def get_readonly_fields(self, request, obj=None):
        return STRUCTURE if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        created = services.create_agency(
            actor=request.user,
            name=obj.name,
            kind=obj.kind,
            parent=obj.parent,
            electronic_code=obj.electronic_code,
            admin_unit_code=obj.admin_unit_code,
            valid_from=obj.valid_from,
        )
        obj.pk, obj.code = created.pk, created.code

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("sap-xep/", self.admin_site.admin_view(self.reorganize), name="org_agency_reorganize"),
            *super().get_urls(),
        ]

    def reorganize(self, request):
        form = ReorganizationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                self._apply(request.user, form.cleaned_data)
                messages.success(
                    request, "Đã ghi nhận sắp xếp tổ chức; hồ sơ, cán bộ và thủ tục đã chuyển sang cơ quan kế thừa."
                )
                return redirect("admin:org_reorganization_changelist")
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        return TemplateResponse(
            request,
            "admin/org/reorganize.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": "Sắp xếp lại cơ quan",
                "opts": self.model._meta,
            },
        )

    @staticmethod
    def _apply(actor, data):
        sources, kind, day, basis = list(data["sources"]), data["kind"], data["effective_date"], data["legal_basis"]
        if kind != Reorganization.Kind.MERGE and len(sources) != 1:
            raise DomainError("Loại sắp xếp này áp dụng cho đúng một cơ quan.", "sources")
        if kind in (Reorganization.Kind.RENAME, Reorganization.Kind.MERGE) and not data["name"]:
            raise DomainError("Hãy nhập tên mới.", "name")
        if kind == Reorganization.Kind.RENAME:
            services.rename(
                actor=actor, agency=sources[0], new_name=data["name"], effective_date=day, legal_basis=basis
            )
        elif kind == Reorganization.Kind.MERGE:
            services.merge(
                actor=actor,
                sources=sources,
                name=data["name"],
                kind=data["new_kind"] or sources[0].kind,
                parent=data["parent"],
                effective_date=day,
                legal_basis=basis,
            )
        elif kind == Reorganization.Kind.DISSOLVE:
            services.dissolve(
                actor=actor, agency=sources[0], successor=data["successor"], effective_date=day, legal_basis=basis
            )
        else:
            services.move(
                actor=actor, agency=sources[0], new_parent=data["parent"], effective_date=day, legal_basis=basis
            )


class SuccessionInline(admin.TabularInline):
    model = Succession
    extra = 0
    readonly_fields = ["source", "successor", "takes_open_work"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Reorganization)
class ReorganizationAdmin(admin.ModelAdmin):
    """History only: new reorganizations go through the “Sắp xếp lại cơ quan” form."""

    list_display = ["kind", "effective_date", "subject", "legal_basis"]
    inlines = [SuccessionInline]
    readonly_fields = ["kind", "effective_date", "legal_basis", "note", "subject"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
