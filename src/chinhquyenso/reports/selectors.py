"""Reads: the templates and reports an officer may work on."""

from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.accounts.selectors import agency_ids
from chinhquyenso.core.errors import NotFound
from chinhquyenso.reports.models import Report, ReportTemplate


def writable_templates(user):
    rows = ReportTemplate.objects.filter(is_active=True)
    if getattr(user, "global_role", "") in (GlobalRole.PROVINCE_ADMIN, GlobalRole.AUDITOR):
        return rows
    return rows.filter(issuer_id__in=agency_ids(user))


def visible_reports(user):
    return Report.objects.filter(template__in=writable_templates(user)).select_related("template", "agency")


def get_report(user, pk: int) -> Report:
    report = visible_reports(user).filter(pk=pk).first()
    if report is None:
        raise NotFound("Không tìm thấy báo cáo.")
    return report
