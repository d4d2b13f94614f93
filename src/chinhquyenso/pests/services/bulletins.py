"""The weekly pest-situation bulletin (Thông báo tình hình sinh vật gây hại) of a district or the
province, as DOCX and PDF in the official layout (core.official, Nghị định 30/2020).

`issue(area=…, week_start=…, actor=…)` computes the week's figures from the surveillance selectors
(`selectors.densities`: the same densities the pages, the map and the API show), keeps them in
`Bulletin.content`, writes the document with the core writers, stores both files
(`core.uploads.store_generated`) and records `pests.bulletin.issue` in the audit chain — one
transaction.

- **The week** runs Monday to Sunday; any day of it names it (the Monday is kept).
- **The issuing agency** is data, never a name in code: the agencies following the area's stations
  (`Station.agency`, the district's Trạm Trồng trọt và BVTV) and their parents (the province's Chi cục)
  are the candidates — an agency issues for an area when it follows, itself or through the agencies
  under it, every station of the area. The issuer is the actor's own agency among them (the closest to
  the stations); a province administrator gets the closest one. An officer whose agencies follow no
  station of the area may not issue its bulletin. The cơ quan chủ quản printed above it is its parent.
- **The number** comes from `core.codes.next_number("pests-bulletin:<issuer code>:<year>")`: each
  issuing agency numbers its own bulletins from 1 every year ("Số: 12/TB-TTBVTV"). The symbol after
  the slash is data too: the one given in the form, else the one the issuer used last time, else
  "TB-" with the initials of the issuer's name (Trạm Trồng trọt và Bảo vệ thực vật → TB-TTTBVTV),
  which the officer corrects once and which then stays.
- **One bulletin per area and week.** Issuing again returns the existing bulletin unchanged. With
  `replace=True` the same bulletin (same number) is rebuilt from the figures as they stand now —
  for counts that arrived late — with today's date, new files and an audit record holding the
  figures before and after.
- **Forecast and measures** ("Dự báo và đề xuất biện pháp") name every organism at or above a warn
  level in the area that week — an alert of the week in one of its communes, or an area-wide density
  at or above the lowest warn level of its thresholds in force for that measure — with the catalog's
  management text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter, defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.accounts.selectors import agency_ids, sees_whole_province
from chinhquyenso.core import audit, codes
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.official.document import (
    Bullet,
    Heading,
    OfficialDocument,
    Paragraph,
    Signer,
    Table,
    short_date,
)
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.core.uploads import store_generated
from chinhquyenso.core.workflow import now
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.pests import access
from chinhquyenso.pests.models import Alert, Bulletin, Organism, Station, Survey, Threshold
from chinhquyenso.pests.selectors import densities as surveillance
from chinhquyenso.pests.services.catalog import stage_on
from chinhquyenso.pests.services.subscriptions import area_name
from chinhquyenso.pests.services.warnings import LEVEL_TEXT, figure, stage_name

DOC_TYPE = "THÔNG BÁO"
AREA_KINDS = (AgencyKind.DISTRICT_COMMITTEE, AgencyKind.PROVINCE_COMMITTEE)
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
ADVICE_LIMIT = 900  # characters of the catalog's management text per organism
SYMBOL = re.compile(r"[A-ZĐ0-9][A-ZĐ0-9&.\-]{0,29}")
# Words of an agency's name left out of its initials, and the place that ends a name.
_SMALL_WORDS = {"và", "các", "của"}
_PLACE_WORDS = ("huyện", "tỉnh", "thị xã", "thành phố", "quận", "xã", "phường")
# The head of an agency, by the word its name starts with (the usual titles; the form may say another).
_HEADS = (("trạm", "TRƯỞNG TRẠM"), ("chi cục", "CHI CỤC TRƯỞNG"), ("trung tâm", "GIÁM ĐỐC"), ("sở", "GIÁM ĐỐC"))


# ---------------------------------------------------------------- the week and the area


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """(Monday, Sunday) of the week `day` falls in."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def check_area(area: Agency | None, sunday: dt.date) -> Agency:
    if area is None or area.kind not in AREA_KINDS:
        raise DomainError("Địa bàn của thông báo phải là một huyện hoặc tỉnh.", "area")
    if area.valid_from > sunday:
        raise DomainError(f"{area.name} chưa được thành lập trong tuần này.", "area")
    return area


def area_stations(area: Agency, day: dt.date) -> list[Station]:
    """The area's stations as they stood on `day` (a station of a commune merged since counts where
    that commune went), every kind."""
    spec = surveillance.area_of(area)
    stations = list(Station.objects.select_related("crop", "agency", "commune"))
    if spec.communes is None:
        return stations
    history = surveillance.CommuneHistory()
    return [s for s in stations if (history.successor_on(s.commune_id, day) or s.commune_id) in spec.communes]


# ---------------------------------------------------------------- the issuing agency


def _chain(agency: Agency | None) -> list[Agency]:
    out, seen = [], set()
    while agency is not None and agency.pk not in seen:
        seen.add(agency.pk)
        out.append(agency)
        agency = agency.parent
    return out


def issuers_for(area: Agency, day: dt.date) -> list[Agency]:
    """The agencies that may issue the area's bulletin, closest to the stations first: those whose
    own or subordinate agencies follow every station of the area that has a following agency."""
    followers = {s.agency_id: s.agency for s in area_stations(area, day) if s.agency_id}
    if not followers:
        return []
    chains = [_chain(Agency.objects.select_related("parent").get(pk=pk)) for pk in followers]
    common = set.intersection(*({a.pk for a in chain} for chain in chains))
    committees = (AgencyKind.PROVINCE_COMMITTEE, AgencyKind.DISTRICT_COMMITTEE, AgencyKind.COMMUNE_COMMITTEE)
    return [a for a in chains[0] if a.pk in common and a.kind not in committees]


def issuer_for(area: Agency, actor, day: dt.date) -> Agency:
    """The actor's agency that issues the area's bulletin (see the module's docstring)."""
    candidates = issuers_for(area, day)
    if not candidates:
        raise DomainError(
            f"Chưa xác định được cơ quan ban hành: {area.name} chưa có trạm, điểm điều tra nào "
            "được giao cơ quan theo dõi.",
            "area",
        )
    own = agency_ids(actor)
    for agency in candidates:
        if agency.pk in own:
            return agency
    if sees_whole_province(actor):
        return candidates[0]
    raise PermissionDenied(f"Cơ quan của bạn không theo dõi các trạm của {area.name}, nên không lập thông báo được.")


def _initials(name: str) -> str:
    words = nfc(name).split()
    lowered = [w.lower() for w in words]
    for place in _PLACE_WORDS:  # "… huyện Chợ Mới": the place is not part of the initials
        size = len(place.split())
        for index in range(1, len(words)):
            if " ".join(lowered[index : index + size]) == place:
                words, lowered = words[:index], lowered[:index]
                break
    letters = []
    for word, low in zip(words, lowered):
        if low in _SMALL_WORDS or not word[:1].isalpha():
            continue
        first = word[0].upper()
        letters.append(first if first == "Đ" else unicodedata.normalize("NFD", first)[0])
    return "".join(letters)


def symbol_for(issuer: Agency, given: str = "") -> str:
    """The symbol after the number: the one given, else the issuer's last, else TB-<initials>."""
    given = nfc(given).upper().replace(" ", "")
    if given:
        if not SYMBOL.fullmatch(given):
            raise DomainError("Ký hiệu chỉ gồm chữ in hoa, chữ số và dấu gạch ngang, ví dụ TB-TTBVTV.", "symbol")
        return given
    last = Bulletin.objects.filter(issuer=issuer).order_by("-created_at", "-id").first()
    if last is not None and last.content.get("symbol"):
        return last.content["symbol"]
    return f"TB-{_initials(issuer.name)}"


def signer_for(issuer: Agency, position: str = "", name: str = "") -> dict:
    """Who signs: as given, else as the issuer's last bulletin, else the issuer's leader (by role)
    under the usual title of the head of such an agency."""
    position, name = nfc(position).upper()[:120], nfc(name)[:120]
    last = Bulletin.objects.filter(issuer=issuer).order_by("-created_at", "-id").first()
    previous = (last.content.get("signer") or {}) if last is not None else {}
    if not position:
        position = previous.get("position", "")
    if not position:
        folded = issuer.name.lower()
        position = next((title for word, title in _HEADS if folded.startswith(word)), "THỦ TRƯỞNG CƠ QUAN")
    if not name:
        name = previous.get("name", "")
    if not name:
        leader = (
            Membership.objects.filter(agency=issuer, role=Role.LEADER, user__is_active=True)
            .select_related("user")
            .order_by("pk")
            .first()
        )
        name = leader.user.display_name if leader is not None else ""
    return {"position": position, "name": name}


# ---------------------------------------------------------------- the figures


def _value(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _text(value) -> str:
    return "—" if value in (None, "") else figure(value)


def _crops(area: Agency, sunday: dt.date) -> list[dict]:
    """The crops of the area's active stations and the stage each is at on Sunday."""
    per_crop: dict[int, dict] = {}
    for station in area_stations(area, sunday):
        if not station.active:
            continue
        crop = per_crop.setdefault(station.crop_id, {"crop": station.crop, "stations": 0, "stages": Counter()})
        crop["stations"] += 1
        code = stage_on(station.crop, station.sown_on, sunday)
        crop["stages"][stage_name(station.crop, code) if code else "Chưa rõ giai đoạn"] += 1
    out = []
    for item in sorted(per_crop.values(), key=lambda c: c["crop"].name):
        stages = [{"stage": stage, "stations": n} for stage, n in sorted(item["stages"].items(), key=lambda s: -s[1])]
        out.append({"crop": item["crop"].name, "stations": item["stations"], "stages": stages})
    return out


def _comparison(density) -> dict:
    seasons = [{"label": c.label, "value": _value(c.value)} for c in density.seasons]
    return {
        "previous": _value(density.previous.value),
        "trend": density.trend or "",
        "change_percent": _value(density.change_percent),
        "seasons": seasons,
    }


def _max_stations(area: Agency, monday: dt.date, sunday: dt.date) -> dict[str, dict]:
    """Per trap class code: the station with the highest con/bẫy/đêm of the week."""
    best: dict[str, dict] = {}
    for item in surveillance.trap_stations(area=area, start=monday, end=sunday):
        for code, total in item.counts.items():
            value = surveillance.per(total, item.nights)
            if value is not None and (code not in best or value > Decimal(best[code]["value"])):
                best[code] = {
                    "station": item.station.code,
                    "name": item.station.name,
                    "commune": area_name(item.commune),
                    "value": str(value),
                }
    return best


def _infested_area(area: Agency, monday: dt.date, sunday: dt.date) -> dict[int, Decimal]:
    """Per organism: the hectares the week's surveys represent where it was found (density or
    infestation above zero) — only surveys that gave their area count."""
    spec = surveillance.area_of(area)
    surveys = Survey.objects.filter(surveyed_on__gte=monday, surveyed_on__lte=sunday, area_ha__isnull=False)
    if spec.communes is not None:
        surveys = surveys.filter(commune_id__in=spec.communes)
    hectares: dict[int, Decimal] = defaultdict(Decimal)
    for survey in surveys.prefetch_related("observations"):
        for observation in survey.observations.all():
            if (observation.density_per_m2 or 0) > 0 or (observation.infestation_pct or 0) > 0:
                hectares[observation.organism_id] += survey.area_ha
    return dict(hectares)


def _week_alerts(area: Agency, monday: dt.date, sunday: dt.date) -> list[Alert]:
    spec = surveillance.area_of(area)
    alerts = Alert.objects.filter(period_start__lte=sunday, period_end__gte=monday).select_related(
        "organism", "commune", "threshold", "threshold__crop"
    )
    if spec.communes is not None:
        alerts = alerts.filter(commune_id__in=spec.communes)
    return list(alerts.order_by("organism__name", "commune__name", "level", "pk"))


def _lowest_warn(organism_ids: set[int], day: dt.date) -> dict[tuple[int, str], Decimal]:
    """(organism, measure) → the lowest warn level among the thresholds in force on `day`."""
    out: dict[tuple[int, str], Decimal] = {}
    thresholds = Threshold.objects.filter(organism_id__in=organism_ids).filter(
        (Q(valid_from__isnull=True) | Q(valid_from__lte=day)) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    )
    for organism, measure, warn in thresholds.values_list("organism_id", "measure", "warn_level"):
        key = (organism, measure)
        out[key] = min(out.get(key, warn), warn)
    return out


def compute(area: Agency, monday: dt.date, sunday: dt.date) -> dict:
    """The week's figures (JSON-ready; decimals as strings) — what the documents print."""
    rows = surveillance.densities(area=area, start=monday, end=sunday)
    best = _max_stations(area, monday, sunday)
    hectares = _infested_area(area, monday, sunday)
    alerts = _week_alerts(area, monday, sunday)
    organisms = {d.organism.pk for d in rows if d.organism is not None}
    warn_levels = _lowest_warn(organisms, sunday)

    traps, surveys = [], []
    for density in rows:
        organism = density.organism
        item = {
            "organism": organism.code if organism else "",
            "name": density.name,
            "natural_enemy": density.is_natural_enemy,
            "measure": density.measure,
            "unit": density.unit,
            "value": _value(density.value),
            **_comparison(density),
        }
        if density.source == "trap":
            item.update(
                trap_class=density.trap_class.code,
                total=density.total,
                trap_nights=density.trap_nights,
                stations=len(density.stations),
                max_station=best.get(density.trap_class.code),
            )
            traps.append(item)
        else:
            area_ha = hectares.get(organism.pk) if organism else None
            item.update(surveys=density.total, infested_ha=_value(area_ha))
            surveys.append(item)

    ratio = surveillance.natural_enemy_ratio(area=area, start=monday, end=sunday)
    forecast: dict[int, dict] = {}
    for alert in alerts:
        entry = forecast.setdefault(alert.organism_id, {"organism": alert.organism, "level": alert.level, "why": []})
        if alert.level == Alert.Level.ACTION:
            entry["level"] = Alert.Level.ACTION
        entry["why"].append(f"{area_name(alert.commune)} {figure(alert.value)} {alert.threshold.get_measure_display()}")
    for density in rows:
        organism = density.organism
        if organism is None or density.is_natural_enemy or density.value is None:
            continue
        warn = warn_levels.get((organism.pk, density.measure))
        if warn is not None and density.value >= warn:
            entry = forecast.setdefault(organism.pk, {"organism": organism, "level": Alert.Level.WARN, "why": []})
            entry["why"].append(f"toàn địa bàn {figure(density.value)} {density.unit} (ngưỡng cảnh báo {figure(warn)})")
    return {
        "crops": _crops(area, sunday),
        "traps": [t for t in traps if not t["natural_enemy"]],
        "trap_enemies": [t for t in traps if t["natural_enemy"]],
        "surveys": [s for s in surveys if not s["natural_enemy"]],
        "survey_enemies": [s for s in surveys if s["natural_enemy"]],
        "natural_enemies": {
            "surveys": ratio.surveys,
            "enemies_per_m2": _value(ratio.enemies_per_m2),
            "pests_per_m2": _value(ratio.pests_per_m2),
            "ratio": ratio.text,
        },
        "alerts": [
            {
                "id": alert.pk,
                "organism": alert.organism.name,
                "commune": area_name(alert.commune),
                "level": alert.level,
                "level_text": LEVEL_TEXT[alert.level],
                "value": str(alert.value),
                "unit": alert.threshold.get_measure_display(),
                "period": [alert.period_start.isoformat(), alert.period_end.isoformat()],
            }
            for alert in alerts
        ],
        "forecast": [
            {
                "organism": entry["organism"].code,
                "name": entry["organism"].name,
                "level": entry["level"],
                "why": entry["why"],
                "advice": _advice(entry["organism"]),
            }
            for entry in sorted(forecast.values(), key=lambda e: (e["level"] != Alert.Level.ACTION, e["organism"].name))
        ],
    }


def _advice(organism: Organism) -> str:
    text = " ".join((organism.management or "").split())
    if len(text) > ADVICE_LIMIT:
        text = text[: ADVICE_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return text


# ---------------------------------------------------------------- the document


def _trend_text(item: dict) -> str:
    if item["previous"] is None:
        return "—"
    if item["change_percent"] is not None:
        change = Decimal(item["change_percent"])
        sign = "+" if change > 0 else ""
        return f"{_text(item['previous'])} ({sign}{figure(change)}%)"
    return _text(item["previous"])


def _season_text(item: dict) -> str:
    known = [s for s in item["seasons"] if s["value"] is not None]
    if not known:
        return "—"
    return _text(known[0]["value"])


def _season_label(items: list[dict]) -> str:
    for item in items:
        for season in item["seasons"]:
            return season["label"]
    return "vụ trước"


def _place(area: Agency, issuer: Agency) -> str:
    """The place on the place-and-date line (Nghị định 30/2020): the district for a district's agency,
    else the province."""
    if area.kind == AgencyKind.DISTRICT_COMMITTEE and fold(issuer.name).find(fold(area_name(area))) >= 0:
        name = area_name(area)
        for prefix in ("huyện ", "Huyện "):
            name = name.removeprefix(prefix)
        return name[:1].upper() + name[1:]
    return settings.CQS["PROVINCE_NAME"]


def document(bulletin_number: int, content: dict, issued_on: dt.date) -> OfficialDocument:
    """The bulletin as an official document, from its stored figures only."""
    monday, sunday = (dt.date.fromisoformat(d) for d in content["week"])
    area = content["area"]["name"]
    body: list = [
        Paragraph(
            f"{content['issuer']['name']} thông báo tình hình sinh vật gây hại cây trồng trên địa bàn "
            f"{area} trong tuần từ ngày {short_date(monday)} đến ngày {short_date(sunday)}, tổng hợp từ "
            "số liệu bẫy đèn và điều tra đồng ruộng, như sau:"
        ),
        Heading(1, "I. TÌNH HÌNH CÂY TRỒNG"),
    ]
    if content["crops"]:
        for crop in content["crops"]:
            stages = "; ".join(f"{s['stage'].lower()}: {s['stations']} trạm, điểm" for s in crop["stages"])
            body.append(Bullet(f"{crop['crop']}: {crop['stations']} trạm, điểm theo dõi ({stages})."))
    else:
        body.append(Paragraph("Chưa có trạm, điểm theo dõi nào trên địa bàn."))

    body.append(Heading(1, "II. TÌNH HÌNH SINH VẬT GÂY HẠI"))
    body.append(Heading(2, "1. Kết quả bẫy đèn"))
    traps = content["traps"]
    if traps:
        season = _season_label(traps)
        body.append(
            Table(
                title="Mật độ sinh vật gây hại vào bẫy đèn trong tuần",
                columns=["STT", "Sinh vật gây hại", "Mật độ (con/bẫy/đêm)", "Cao nhất (trạm)", "Tuần trước", season],
                rows=[
                    [
                        str(n),
                        item["name"],
                        _text(item["value"]),
                        f"{_text(item['max_station']['value'])} ({item['max_station']['name']})"
                        if item.get("max_station")
                        else "—",
                        _trend_text(item),
                        _season_text(item),
                    ]
                    for n, item in enumerate(traps, start=1)
                ],
                widths=[0.6, 3, 1.6, 3, 1.8, 1.6],
            )
        )
        nights = traps[0]["trap_nights"]
        body.append(Paragraph(f"Số đêm bẫy có số liệu trong tuần: {figure(nights)}."))
    else:
        body.append(Paragraph("Trong tuần không có số liệu bẫy đèn."))

    body.append(Heading(2, "2. Kết quả điều tra đồng ruộng"))
    surveys = content["surveys"]
    if surveys:
        season = _season_label(surveys)
        body.append(
            Table(
                title="Mật độ, tỷ lệ hại qua điều tra đồng ruộng",
                columns=[
                    "STT",
                    "Sinh vật gây hại",
                    "Chỉ tiêu",
                    "Trung bình",
                    "Diện tích nhiễm (ha)",
                    "Tuần trước",
                    season,
                ],
                rows=[
                    [
                        str(n),
                        item["name"],
                        item["unit"],
                        _text(item["value"]),
                        _text(item["infested_ha"]),
                        _trend_text(item),
                        _season_text(item),
                    ]
                    for n, item in enumerate(surveys, start=1)
                ],
                widths=[0.6, 2.6, 1.6, 1.3, 1.5, 1.8, 1.5],
            )
        )
    else:
        body.append(Paragraph("Trong tuần chưa có phiếu điều tra đồng ruộng."))

    body.append(Heading(2, "3. Thiên địch"))
    enemies = content["natural_enemies"]
    if enemies["ratio"]:
        body.append(
            Paragraph(
                f"Qua {enemies['surveys']} phiếu điều tra: thiên địch {_text(enemies['enemies_per_m2'])} con/m², "
                f"sâu hại {_text(enemies['pests_per_m2'])} con/m²; tỷ lệ thiên địch/sâu hại {enemies['ratio']}."
            )
        )
    else:
        body.append(Paragraph("Chưa đủ số liệu điều tra để tính tỷ lệ thiên địch/sâu hại."))
    for item in content["survey_enemies"]:
        body.append(Bullet(f"{item['name']}: {_text(item['value'])} {item['unit']}."))

    body.append(Heading(2, "4. Cảnh báo trong tuần"))
    if content["alerts"]:
        for alert in content["alerts"]:
            body.append(
                Bullet(
                    f"{alert['organism']} tại {alert['commune']}: {_text(alert['value'])} {alert['unit']}, "
                    f"{alert['level_text']}."
                )
            )
    else:
        body.append(Paragraph("Trong tuần không có cảnh báo nào."))

    body.append(Heading(1, "III. DỰ BÁO VÀ ĐỀ XUẤT BIỆN PHÁP"))
    if content["forecast"]:
        for item in content["forecast"]:
            level = "cần phòng trừ" if item["level"] == Alert.Level.ACTION else "cần theo dõi, cảnh báo"
            body.append(Heading(3, f"{item['name']} ({level})"))
            body.append(Paragraph(f"Mật độ: {'; '.join(item['why'])}."))
            if item["advice"]:
                body.append(Paragraph(f"Biện pháp: {item['advice']}"))
    else:
        body.append(
            Paragraph(
                "Trong tuần chưa có sinh vật gây hại nào đến ngưỡng cảnh báo. Đề nghị tiếp tục thăm đồng, "
                "theo dõi bẫy đèn và báo cáo kịp thời khi sinh vật gây hại phát sinh."
            )
        )
    body.append(
        Paragraph(
            f"Đề nghị UBND các xã, phường trên địa bàn {area} thông tin kịp thời đến nông dân; "
            "cán bộ bảo vệ thực vật tiếp tục theo dõi, hướng dẫn phòng trừ khi sinh vật gây hại đến ngưỡng./."
        )
    )
    issuer, signer = content["issuer"], content.get("signer") or {}
    recipients = []
    if issuer.get("parent"):
        recipients.append(f"{issuer['parent']} (báo cáo);")
    recipients += [f"{content['area']['committee']} (báo cáo);", "UBND các xã, phường (phối hợp);", "Lưu: VT."]
    return OfficialDocument(
        parent_agency=issuer.get("parent", ""),
        issuing_agency=issuer["name"],
        symbol=content["symbol"],
        place=content["place"],
        number=bulletin_number,
        date=issued_on,
        doc_type=DOC_TYPE,
        summary=(
            f"Tình hình sinh vật gây hại cây trồng\ntuần từ ngày {short_date(monday)} đến ngày {short_date(sunday)}"
        ),
        body=body,
        recipients=recipients,
        signer=Signer(position=signer.get("position", ""), name=signer.get("name", "")) if signer else None,
    )


def render(bulletin_number: int, content: dict, issued_on: dt.date) -> dict[str, bytes]:
    from chinhquyenso.core.official.docx_writer import write_docx
    from chinhquyenso.core.official.pdf_writer import write_pdf

    doc = document(bulletin_number, content, issued_on)
    return {"docx": write_docx(doc), "pdf": write_pdf(doc)}


# ---------------------------------------------------------------- issuing


def number_of(bulletin: Bulletin) -> int:
    return int(bulletin.content.get("number") or str(bulletin.number).split("/", 1)[0])


def issue(
    *,
    area: Agency,
    week_start: dt.date,
    actor,
    replace: bool = False,
    symbol: str = "",
    signer_position: str = "",
    signer_name: str = "",
    at: dt.datetime | None = None,
) -> Bulletin:
    """The area's bulletin of the week of `week_start` (see the module's docstring)."""
    at = now(at)
    access.refuse_read_only(actor)
    if not access.can_issue_bulletin(actor):
        raise PermissionDenied("Tài khoản chưa được giao lập thông báo tình hình sinh vật gây hại.")
    monday, sunday = week_of(week_start)
    area = check_area(area, sunday)
    issued_on = local_date(at)
    if monday > issued_on:
        raise DomainError("Chưa lập được thông báo cho một tuần chưa bắt đầu.", "week_start")
    issuer = issuer_for(area, actor, sunday)  # also: may this actor issue for this area at all
    existing = Bulletin.objects.filter(area=area, week_start=monday).first()
    if existing is not None and not replace:
        return existing
    symbol = symbol_for(issuer, symbol)
    content = {
        "week": [monday.isoformat(), sunday.isoformat()],
        "area": {
            "id": area.pk,
            "code": area.code,
            "name": area_name(area),
            "committee": area.name,
            "level": surveillance.area_of(area).level,
        },
        "issuer": {
            "id": issuer.pk,
            "code": issuer.code,
            "name": issuer.name,
            "parent": issuer.parent.name if issuer.parent_id else "",
        },
        "symbol": symbol,
        "signer": signer_for(issuer, signer_position, signer_name),
        "place": _place(area, issuer),
        "issued_on": issued_on.isoformat(),
        **compute(area, monday, sunday),
    }

    def write() -> Bulletin:
        with transaction.atomic():
            bulletin = None
            if existing is not None:
                bulletin = Bulletin.objects.select_for_update().get(pk=existing.pk)
                number = number_of(bulletin)
                before = {"number": bulletin.number, "content": bulletin.content}
            else:
                number = codes.next_number(f"pests-bulletin:{issuer.code}:{issued_on.year}")
                before = None
            content["number"] = number
            files = render(number, content, issued_on)
            name = f"{number:02d}-{symbol}-{monday:%Y%m%d}"
            stored = {
                fmt: store_generated(
                    data, content_type=CONTENT_TYPES[fmt], extension=fmt, name=f"{name}.{fmt}", user=None
                )
                for fmt, data in files.items()
            }
            fields = {
                "number": f"{number:02d}/{symbol}",
                "issuer": issuer,
                "week_end": sunday,
                "content": content,
                "docx": stored["docx"],
                "pdf": stored["pdf"],
            }
            if bulletin is None:
                bulletin = Bulletin.objects.create(area=area, week_start=monday, created_by=_user(actor), **fields)
            else:
                for key, value in fields.items():
                    setattr(bulletin, key, value)
                bulletin.save(update_fields=list(fields))
            audit.record(
                actor=actor,
                action="pests.bulletin.issue",
                obj=bulletin,
                agency_id=issuer.pk,
                before=before,
                after={
                    "number": bulletin.number,
                    "area": area.pk,
                    "week_start": monday.isoformat(),
                    "replace": existing is not None,
                    "content": content,
                },
                at=at,
            )
            return bulletin

    try:
        return write()
    except IntegrityError:
        # Issued at the same moment by someone else: theirs stands (the number went back with the rollback).
        winner = Bulletin.objects.filter(area=area, week_start=monday).first()
        if winner is None:
            raise
        return winner


def _user(actor):
    return actor if getattr(actor, "pk", None) else None
