"""The shipped catalog (pests/data/catalog.json): crops with their growth stages, pests, diseases and
natural enemies, the smart light traps' 35 classes, action thresholds with their source, and the
seasons. `load_catalog` adds what is missing and never overwrites: the plant-protection department
edits the catalog in the administration, and a reload (an upgrade shipping new entries) keeps those
edits."""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from chinhquyenso.core import audit
from chinhquyenso.pests.models import Crop, Organism, Season, SeasonKind, Threshold, TrapClass

CATALOG_FILE = Path(__file__).resolve().parent.parent / "data" / "catalog.json"


@functools.cache
def shipped() -> dict:
    """The catalog file, parsed once per process."""
    return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))


@functools.cache
def shipped_max_per_night() -> dict[str, int]:
    """Each shipped trap class's plausibility bound: more in one night is flagged (services.ingest)."""
    return {row["code"]: int(row["max_per_night"]) for row in shipped()["trap_classes"] if row.get("max_per_night")}


def max_per_night(trap_class: TrapClass) -> int | None:
    """The class's bound: the catalog row's own when the department set one, else the shipped value."""
    own = getattr(trap_class, "max_per_night", None)
    return own if own else shipped_max_per_night().get(trap_class.code)


def season_rows(data: dict) -> list[dict]:
    """The seasons of the catalog's years; Đông Xuân of year Y starts in year Y-1 (code
    dong-xuan-<Y-1>-<Y>). The Đông Xuân starting in the last year's November is included, so every day
    of the listed years falls in a season."""
    years = list(data["years"])
    rows = []
    for year in [*years, max(years) + 1]:
        for spec in data["kinds"]:
            previous = spec.get("starts_previous_year", False)
            if year == max(years) + 1 and not previous:
                continue
            start_year = year - 1 if previous else year
            kind = spec["kind"]
            code = f"{kind.replace('_', '-')}-{start_year}-{year}" if previous else f"{kind.replace('_', '-')}-{year}"
            rows.append(
                {
                    "code": code,
                    "kind": kind,
                    "year": year,
                    "starts_on": dt.date.fromisoformat(f"{start_year}-{spec['start']}"),
                    "ends_on": dt.date.fromisoformat(f"{year}-{spec['end']}"),
                }
            )
    return rows


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@transaction.atomic
def load_catalog(actor=None, data: dict | None = None) -> dict:
    """Add the crops, organisms, trap classes, thresholds and seasons the database lacks (matched by
    code; thresholds by organism, crop, stage and measure). Returns how many of each were added."""
    data = data or shipped()
    added = {"crops": 0, "organisms": 0, "trap_classes": 0, "thresholds": 0, "seasons": 0}

    crops = {c.code: c for c in Crop.objects.all()}
    for row in data["crops"]:
        if row["code"] not in crops:
            crops[row["code"]] = Crop.objects.create(code=row["code"], name=row["name"], stages=row["stages"])
            added["crops"] += 1

    organisms = {o.code: o for o in Organism.objects.all()}
    text_fields = ("other_names", "scientific_name", "damaging_stages", "natural_enemies", "description")
    for row in data["organisms"]:
        if row["code"] in organisms:
            continue
        organism = Organism(
            code=row["code"],
            kind=row["kind"],
            name=row["name"],
            damage=row.get("damage", ""),
            management=row.get("management", ""),
            source=row.get("source", ""),
            is_natural_enemy=row.get("is_natural_enemy", False),
            **{name: row.get(name, "") for name in text_fields},
        )
        organism.save()
        organism.crops.set([crops[code] for code in row.get("crops", [])])
        organisms[row["code"]] = organism
        added["organisms"] += 1

    existing = set(TrapClass.objects.values_list("code", flat=True))
    has_bound = any(f.name == "max_per_night" for f in TrapClass._meta.get_fields())
    for row in data["trap_classes"]:
        if row["code"] in existing:
            continue
        extra = {"max_per_night": row.get("max_per_night")} if has_bound else {}
        TrapClass.objects.create(
            code=row["code"], name=row["name"], organism=organisms.get(row.get("organism") or ""), **extra
        )
        added["trap_classes"] += 1

    present = set(Threshold.objects.values_list("organism__code", "crop__code", "stage", "measure"))
    for row in data["thresholds"]:
        key = (row["organism"], row["crop"], row.get("stage", ""), row["measure"])
        if key in present:
            continue
        Threshold.objects.create(
            organism=organisms[row["organism"]],
            crop=crops[row["crop"]],
            stage=row.get("stage", ""),
            measure=row["measure"],
            warn_level=_decimal(row["warn_level"]),
            action_level=_decimal(row.get("action_level")),
            source=row["source"],
        )
        present.add(key)
        added["thresholds"] += 1

    seasons = set(Season.objects.values_list("code", flat=True))
    for row in season_rows(data["seasons"]):
        if row["code"] not in seasons:
            Season.objects.create(**row)
            added["seasons"] += 1

    if any(added.values()):
        audit.record(actor=actor, action="pests.catalog.load", object_type="pests.Organism", after=added)
    return added


def stage_on(crop: Crop, sown_on: dt.date | None, day: dt.date) -> str:
    """The crop's growth stage code on `day` for a field sown on `sown_on` ("" when unknown or past the
    last stage)."""
    if sown_on is None or day < sown_on:
        return ""
    days = (day - sown_on).days
    for stage in crop.stages:
        if stage.get("days_from", 0) <= days <= stage.get("days_to", 10**6):
            return stage["code"]
    return ""


def season_on(day: dt.date) -> Season | None:
    """The season a day falls in."""
    return Season.objects.filter(starts_on__lte=day, ends_on__gte=day).order_by("starts_on").first()


__all__ = ["SeasonKind", "load_catalog", "max_per_night", "season_on", "shipped", "stage_on"]
