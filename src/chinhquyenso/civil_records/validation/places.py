"""Place names: kept as written, with a flag where a pre-1975 name stands (the
province's list in civil_records/data/historical_places.json says what it is now)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from chinhquyenso.civil_records.validation.text import MAX_TEXT, written
from chinhquyenso.core.text import fold

PLACES_FILE = Path(__file__).parent.parent / "data" / "historical_places.json"


def historical_places(path: Path = PLACES_FILE) -> tuple[re.Pattern, dict[str, str]]:
    """One pattern over folded text matching any pre-1975 place name of the
    province's list, and the reason to give for each (folded) name."""
    reasons: dict[str, str] = {}
    for entry in json.loads(path.read_text(encoding="utf-8"))["places"]:
        for name in entry["match"]:
            reasons[fold(name)] = f"Địa danh cũ ({entry['period']}), nay là {entry['now']}; giữ nguyên như sổ ghi."
    names = "|".join(re.escape(name) for name in sorted(reasons, key=len, reverse=True))
    return re.compile(rf"\b(?:{names})\b"), reasons


class PlaceReader:
    """Reads place cells against a list of historical place names (historical_places)."""

    def __init__(self, places: tuple[re.Pattern, dict[str, str]]):
        self.pattern, self.reasons = places

    def read(self, text: str, value: str, folded: str, flags: list) -> str | None:
        place = written(text, value, folded, flags, limit=MAX_TEXT, none_is_blank=True)
        if place is not None:
            old_name = self.pattern.search(folded)
            if old_name:
                flags.append(("historical_place", self.reasons[old_name[0]], text))
        return place
