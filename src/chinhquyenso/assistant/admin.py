from django.contrib import admin
from django.core.exceptions import ValidationError

from chinhquyenso.assistant import services
from chinhquyenso.assistant.models import FaqEntry, Synonym
from chinhquyenso.assistant.text import normalize


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ["phrase", "expansion", "is_active", "note", "created_by", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["phrase", "phrase_folded", "expansion", "note"]
    readonly_fields = ["created_by", "updated_at"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class SynonymForm(form):
            def clean(self):
                cleaned = super().clean()
                # The unique key is the folded phrase: "đăng kí" and "dang ky" are the same entry.
                key = normalize(cleaned.get("phrase"))
                if not key:
                    raise ValidationError({"phrase": "Cách hỏi phải có ít nhất một chữ."})
                if message := services.synonym_taken(cleaned["phrase"], key, self.instance.pk):
                    raise ValidationError({"phrase": message})
                return cleaned

        return SynonymForm

    def save_model(self, request, obj, form, change):
        services.save_synonym(
            actor=request.user,
            synonym=obj,
            phrase=obj.phrase,
            expansion=obj.expansion,
            note=obj.note,
            is_active=obj.is_active,
        )


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "procedure", "is_active", "created_by", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["question", "answer", "procedure__code", "procedure__name"]
    raw_id_fields = ["procedure"]
    readonly_fields = ["created_by", "updated_at"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class FaqEntryForm(form):
            def clean(self):
                # A question already asked for the procedure (whatever its diacritics) is refused
                # here, on the form, rather than by the service after the page is sent.
                cleaned = super().clean()
                procedure, question = cleaned.get("procedure"), cleaned.get("question")
                if procedure is not None and question:
                    if message := services.faq_taken(procedure, question, self.instance.pk):
                        raise ValidationError({"question": message})
                return cleaned

        return FaqEntryForm

    def save_model(self, request, obj, form, change):
        services.save_faq_entry(
            actor=request.user,
            entry=obj,
            procedure=obj.procedure,
            question=obj.question,
            answer=obj.answer,
            is_active=obj.is_active,
        )
