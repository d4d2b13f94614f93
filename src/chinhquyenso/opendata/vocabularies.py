"""The shipped vocabularies of the open-data portal — licences and themes (lĩnh vực) — read from
opendata/data/vocabularies.json. They are the province's data: the administration edits them, and
loading again only adds the rows that are missing (by code), so an edit made there is never undone
by an upgrade."""

from __future__ import annotations

import json
from pathlib import Path

VOCABULARIES_FILE = Path(__file__).parent / "data" / "vocabularies.json"


def read() -> dict:
    return json.loads(VOCABULARIES_FILE.read_text(encoding="utf-8"))


def load(licence_model=None, theme_model=None) -> tuple[int, int]:
    """Add the licences and themes of the shipped file that are missing; return how many of each were
    added. The data migration passes its historical models; everyone else gets the current ones.
    A shipped default licence becomes the default only when no licence is one yet."""
    if licence_model is None or theme_model is None:
        from chinhquyenso.opendata.models import Licence, Theme

        licence_model, theme_model = licence_model or Licence, theme_model or Theme
    data = read()
    existing = set(licence_model.objects.values_list("code", flat=True))
    has_default = licence_model.objects.filter(is_default=True).exists()
    added_licences = 0
    for item in data["licences"]:
        if item["code"] in existing:
            continue
        is_default = bool(item.get("is_default")) and not has_default
        has_default = has_default or is_default
        licence_model.objects.create(
            code=item["code"], title=item["title"], url=item["url"], is_default=is_default, open=item.get("open", True)
        )
        added_licences += 1
    existing = set(theme_model.objects.values_list("code", flat=True))
    added_themes = 0
    for item in data["themes"]:
        if item["code"] in existing:
            continue
        theme_model.objects.create(
            code=item["code"],
            name=item["name"],
            description=item.get("description", ""),
            eu_theme=item.get("eu_theme", ""),
            order=item.get("order", 0),
        )
        added_themes += 1
    return added_licences, added_themes
