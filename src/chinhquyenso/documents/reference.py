"""The shipped reference data of documents (documents/data/*.json): the document types of Nghị
định 30/2020 (Phụ lục III) and the default approval flow. Loaded by the app's first migration;
`load_reference_data()` loads it again where it is missing (a database emptied by a test run, a
restored backup), keeping every row an administrator edited."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def load_reference_data(apps=None) -> int:
    """Add the shipped types and default flows that are missing; returns how many rows it added.
    `apps`: a migration's app registry (historical models), else the running project's."""
    if apps is None:
        from django.apps import apps
    DocumentType = apps.get_model("documents", "DocumentType")
    ApprovalFlow = apps.get_model("documents", "ApprovalFlow")
    ApprovalStep = apps.get_model("documents", "ApprovalStep")
    added = 0
    types = json.loads((DATA / "document_types.json").read_text(encoding="utf-8"))["types"]
    for row in types:
        _, created = DocumentType.objects.get_or_create(
            code=row["code"], defaults={"name": row["name"], "abbreviation": row["abbreviation"], "order": row["order"]}
        )
        added += created
    flows = json.loads((DATA / "approval_flows.json").read_text(encoding="utf-8"))["flows"]
    for row in flows:
        document_type = DocumentType.objects.get(code=row["document_type"]) if row["document_type"] else None
        if ApprovalFlow.objects.filter(agency=None, document_type=document_type).exists():
            continue
        flow = ApprovalFlow.objects.create(agency=None, document_type=document_type, name=row["name"])
        for order, step in enumerate(row["steps"], start=1):
            ApprovalStep.objects.create(flow=flow, order=order, role=step["role"], name=step["name"])
        added += 1
    return added
