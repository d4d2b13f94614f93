from django.conf import settings
from django.db import models

from chinhquyenso.dossiers.models import Dossier
from chinhquyenso.procedures.models import Procedure


class SubmissionDraft(models.Model):
    """An online submission in progress, saved on the server after every step
    so a lost connection or a closed phone browser loses nothing."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submission_drafts")
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+")
    agency_code = models.CharField(max_length=60, blank=True)
    applicant = models.JSONField(default=dict, blank=True)
    # Where the applicant's data came from, shown on the page ("account", "population_registry").
    applicant_sources = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    # {"<component order>": {"file": sha256, "name": original name} or {"edata": EDataItem id}}
    components = models.JSONField(default=dict, blank=True)
    # Tờ khai điện tử: the values typed (dates ISO) and the version of the procedure's e-form they were typed in.
    form_values = models.JSONField("nội dung tờ khai điện tử", default=dict, blank=True)
    form_version = models.PositiveIntegerField("phiên bản tờ khai", null=True, blank=True)
    dossier = models.OneToOneField(Dossier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "hồ sơ nháp"
        verbose_name_plural = "hồ sơ nháp"
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "procedure"],
                condition=models.Q(dossier__isnull=True),
                name="one_open_draft_per_procedure",
            )
        ]

    def __str__(self):
        return f"Hồ sơ nháp số {self.pk}: {self.procedure}"
