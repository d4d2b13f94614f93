"""The administration (/quan-tri/) speaks Vietnamese: Django's own texts that its
Vietnamese catalog lacks, and the task queue's page, come from the project's
catalog (src/chinhquyenso/locale), committed compiled."""

import ast
import datetime as dt
import gettext
import html
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django_tasks_db.models import DBTaskResult

import chinhquyenso
from chinhquyenso.accounts import services as accounts
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.feedback.models import Escalation, Feedback
from chinhquyenso.org import services as org

LOCALE = Path(chinhquyenso.__file__).parent / "locale"

# English phrases of Django's admin and of the task queue's admin, as they would show.
ENGLISH = [
    "Skip to main content",
    "Toggle theme",
    "Toggle navigation",
    "Filter navigation items",
    "Breadcrumbs",
    "Sidebar",
    "Log out",
    "Change password",
    "View site",
    "Welcome",
    "Recent actions",
    "My actions",
    "Add",
    "Add link",
    "Change or view list link",
    "Model name",
    "Save",
    "Delete",
    "History",
    "Filter",
    "Show counts",
    "Hide counts",
    "Search",
    "Action",
    "Select all objects",
    "Select this object",
    "Password-based authentication",
    "Reset password",
    "Raw passwords are not stored",
    "Tasks Database Backend",
    "Task Result",
    "Task name",
    "Enqueued at",
    "Run after",
    "Traceback",
    "Queue name",
    "Priority",
    "Ready",
    # What our own models would show without Vietnamese names: Django's "<Model> object (n)",
    # field names made from attribute names, plural names made by adding "s", permission names.
    "object (",
    "Can add",
    "Can change",
    "Can delete",
    "Can view",
    "Api token",
    "Api tokens",
    "Agency",
    "User",
    "Key hash",
    "Key prefix",
    "Revoked at",
    "Seq",
    "Created at",
    "Actor",
    "Actor label",
    "Object type",
    "object type",
    "Object id",
    "Agency id",
    "Before",
    "After",
    "Hash",
    "Prev hash",
    "Successions",
    "Source",
    "Successor",
    "Takes open work",
    "Procedure agencys",
    "Process steps",
    "Required components",
    "escalation level",
    "level",
    "reason",
    "to agency",
    "cycle",
]


def _as_words(phrase: str) -> str:
    """The phrase on its own ("Add" not in "Address"), also when it ends in a sign ("object (")."""
    before = r"(?<![\w-])" if re.match(r"\w", phrase) else ""
    after = r"(?![\w-])" if re.search(r"\w$", phrase) else ""
    return before + re.escape(phrase) + after


def shown_text(body: str) -> str:
    """What a person sees or hears: text between tags, titles, labels, placeholders, button captions."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    said = re.findall(r'\b(?:title|aria-label|placeholder)="([^"]*)"', body)
    buttons = re.findall(r'<input[^>]*type="(?:submit|button)"[^>]*value="([^"]*)"', body)
    return html.unescape("\n".join([re.sub(r"<[^>]+>", "\n", body), *said, *buttons]))


def our_admin_pages() -> list[str]:
    """The list and, where a row exists, the first row's page of every model of ours the
    administration shows (rows only where the test's fixtures made one)."""
    from django.contrib import admin

    pages = []
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label):
        opts = model._meta
        if not opts.app_config.name.startswith("chinhquyenso."):
            continue
        pages.append(f"/quan-tri/{opts.app_label}/{opts.model_name}/")
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            pages.append(f"/quan-tri/{opts.app_label}/{opts.model_name}/{row.pk}/change/")
    return pages


def default_english_names() -> list[str]:
    """What Django would show for our shown models without Vietnamese names: field labels made
    from attribute names ("Next attempt at"), model names made from class names ("Reported value")."""
    from django.contrib import admin
    from django.utils.text import camel_case_to_spaces, capfirst

    names = set()
    for model in admin.site._registry:
        opts = model._meta
        if not opts.app_config.name.startswith("chinhquyenso."):
            continue
        names |= {
            capfirst(camel_case_to_spaces(opts.object_name)),
            capfirst(camel_case_to_spaces(opts.object_name)) + "s",
        }
        names |= {
            capfirst(f.name.replace("_", " "))
            for f in opts.get_fields()
            if f.concrete and " " in f.name.replace("_", " ")
        }
    return sorted(names)


@pytest.mark.django_db
def test_admin_pages_show_no_english(officers, birth_procedure, admin_user, registry):
    superuser = get_user_model().objects.create_superuser("sieu.quantri", password="Mat-khau-2025")
    task = DBTaskResult.objects.create(
        task_path="chinhquyenso.exchange.tasks.deliver",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after="2025-07-01T08:00:00+07:00",
        exception_class_path="",
        traceback="",
    )
    agency = officers["xa_a"]["specialist"].memberships.first().agency
    token, _ = accounts.issue_api_token(actor=admin_user, agency=agency, name="Phần mềm một cửa")
    renamed = org.rename(
        actor=admin_user,
        agency=officers["xa_b"]["specialist"].memberships.first().agency,
        new_name="UBND xã Kiến Thành mới",
        effective_date=dt.date(2025, 7, 1),
    )
    reorganization = renamed.successions_in.get().reorganization
    record = AuditRecord.objects.order_by("-seq").first()
    group = Group.objects.create(name="Tổ kiểm tra")
    group.permissions.set(Permission.objects.filter(codename__in=["view_procedure", "change_agency"]))
    superuser.user_permissions.set(Permission.objects.filter(codename__in=["add_apitoken", "delete_calendarday"]))
    feedback = Feedback.objects.create(
        code="PA-2025-000001",
        token="t" * 40,
        category=_category(),
        description="Đèn đường hỏng",
        content_hash="h" * 64,
        received_at="2025-07-01T08:00:00+07:00",
        escalation_level=1,
    )
    Escalation.objects.create(feedback=feedback, level=1, reason="due_soon", at="2025-07-02T08:00:00+07:00")
    client = Client()
    client.force_login(superuser)
    pages = [
        "/quan-tri/",
        "/quan-tri/password_change/",
        "/quan-tri/accounts/user/",
        f"/quan-tri/accounts/user/{superuser.pk}/change/",
        f"/quan-tri/accounts/user/{officers['xa_a']['specialist'].pk}/change/",
        "/quan-tri/accounts/user/add/",
        "/quan-tri/accounts/apitoken/",
        f"/quan-tri/accounts/apitoken/{token.pk}/change/",
        f"/quan-tri/accounts/apitoken/{token.pk}/delete/",
        "/quan-tri/auth/group/",
        f"/quan-tri/auth/group/{group.pk}/change/",
        "/quan-tri/auth/group/add/",
        "/quan-tri/org/agency/",
        f"/quan-tri/org/agency/{agency.pk}/change/",
        "/quan-tri/org/reorganization/",
        f"/quan-tri/org/reorganization/{reorganization.pk}/change/",
        "/quan-tri/procedures/procedure/",
        f"/quan-tri/procedures/procedure/{birth_procedure.pk}/change/",
        f"/quan-tri/procedures/procedure/{birth_procedure.pk}/delete/",
        "/quan-tri/core/calendarday/",
        "/quan-tri/core/calendarday/add/",
        "/quan-tri/core/auditrecord/",
        f"/quan-tri/core/auditrecord/{record.pk}/change/",
        "/quan-tri/feedback/feedback/",
        f"/quan-tri/feedback/feedback/{feedback.pk}/change/",
        "/quan-tri/feedback/escalation/",
        "/quan-tri/django_tasks_database/dbtaskresult/",
        f"/quan-tri/django_tasks_database/dbtaskresult/{task.pk}/change/",
    ]
    pages += [url for url in our_admin_pages() if url not in pages]
    found = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = shown_text(response.content.decode())
        for phrase in [*ENGLISH, *default_english_names()]:
            if re.search(_as_words(phrase), text):
                found.setdefault(url, []).append(phrase)
    assert found == {}, "\n".join(f"{url}: {phrases}" for url, phrases in found.items())
    index = shown_text(client.get("/quan-tri/").content.decode())
    assert "Chuyển đến nội dung chính" in index
    assert "Hàng đợi tác vụ nền" in index
    # Permissions read in Vietnamese, named by the model's Vietnamese name.
    group_page = shown_text(client.get(f"/quan-tri/auth/group/{group.pk}/change/").content.decode())
    assert "Được xem thủ tục hành chính" in group_page
    assert "Được sửa cơ quan" in group_page
    # The report's channel by its name, in the list's filter and on the report's page, not its code ("web").
    for url in ["/quan-tri/feedback/feedback/", f"/quan-tri/feedback/feedback/{feedback.pk}/change/"]:
        lines = {line.strip() for line in shown_text(client.get(url).content.decode()).splitlines()}
        assert "Cổng thông tin" in lines and not lines & {"web", "app", "open311", "ioc"}, url
    task_page = shown_text(
        client.get(f"/quan-tri/django_tasks_database/dbtaskresult/{task.pk}/change/").content.decode()
    )
    assert f"Tác vụ {task.pk}" in task_page


def our_apps():
    """Every app of this project (its module under chinhquyenso.), from the app registry."""
    from django.apps import apps

    return [config for config in apps.get_app_configs() if config.name.startswith("chinhquyenso.")]


def test_models_name_themselves_in_vietnamese():
    """Every model of our apps shows in the permission lists and the delete pages: it has a
    Vietnamese name (singular and plural) and a way to name its rows (not "<Model> object (n)");
    every field of a model the administration shows has a Vietnamese label."""
    from django.contrib import admin
    from django.db import models

    shown = set(admin.site._registry)
    shown |= {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    missing = []
    for config in our_apps():
        for model in config.get_models():
            opts = model._meta
            missing += [
                f"{opts.label}.Meta.{name}"
                for name in ("verbose_name", "verbose_name_plural")
                if name not in opts.original_attrs
            ]
            if model.__str__ is models.Model.__str__:
                missing.append(f"{opts.label}.__str__")
            if model in shown:
                missing += [
                    f"{opts.label}.{field.name}"
                    for field in opts.get_fields()
                    if field.concrete and not field.auto_created and field.verbose_name == field.name.replace("_", " ")
                ]
    assert missing == []


def _category():
    from chinhquyenso.feedback.models import Category

    return Category.objects.create(code="chieu-sang", name="Chiếu sáng công cộng")


def po_catalog(path: Path) -> dict:
    """The translated entries of a .po file, keyed as Python's gettext keys a compiled catalog."""
    entries, entry, key, fuzzy = [], {}, None, False
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry:
                entries.append((entry, fuzzy))
            entry, key, fuzzy = {}, None, False
        elif line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in line
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        elif not line.startswith("#"):
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    catalog = {}
    for entry, fuzzy in entries:
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            forms = {int(k[7:-1]): v for k, v in entry.items() if k.startswith("msgstr[")}
            if all(forms.values()) and not fuzzy:
                catalog.update({(msgid, n): text for n, text in forms.items()})
        elif entry["msgstr"] and (not fuzzy or msgid == ""):
            catalog[msgid] = entry["msgstr"]
    return catalog


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_committed_catalog_is_compiled_from_its_source(domain):
    """Nothing compiles at run time: the .mo in the repository must say what the .po says
    (after editing the .po: msgfmt -o django.mo django.po)."""
    folder = LOCALE / "vi" / "LC_MESSAGES"
    with (folder / f"{domain}.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)._catalog
    po = po_catalog(folder / f"{domain}.po")
    assert {k: v for k, v in mo.items() if k != ""} == {k: v for k, v in po.items() if k != ""}
    assert "Plural-Forms: nplurals=1; plural=0;" in mo[""]
