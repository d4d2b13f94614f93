from chinhquyenso.core.registry import TileSection

MEASURES: dict[str, str] = {}
TILES = TileSection(title="Sinh vật gây hại cây trồng", tiles=(), counts="")


def indicator_measures(start, end) -> dict:
    return {}
