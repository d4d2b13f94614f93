"""The map library served from the platform (core/static/vendor/leaflet) is the npm packages'
files of the versions package-lock.json locks, unmodified, with their licences; each *.gz copy
WhiteNoise sends is the same file compressed. Skipped where node_modules is absent (`npm ci`)."""

import gzip
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "chinhquyenso" / "core" / "static" / "vendor" / "leaflet"
NODE_MODULES = ROOT / "node_modules"
# vendored path → (npm package, path in the package)
FILES = {
    "leaflet.js": ("leaflet", "dist/leaflet.js"),
    "leaflet.css": ("leaflet", "dist/leaflet.css"),
    "LICENSE": ("leaflet", "LICENSE"),
    **{
        f"images/{name}": ("leaflet", f"dist/images/{name}")
        for name in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")
    },
    "markercluster/leaflet.markercluster.js": ("leaflet.markercluster", "dist/leaflet.markercluster.js"),
    "markercluster/MarkerCluster.css": ("leaflet.markercluster", "dist/MarkerCluster.css"),
    "markercluster/MarkerCluster.Default.css": ("leaflet.markercluster", "dist/MarkerCluster.Default.css"),
    "markercluster/MIT-LICENCE.txt": ("leaflet.markercluster", "MIT-LICENCE.txt"),
}
COMPRESSED = ("leaflet.js", "leaflet.css", "markercluster/leaflet.markercluster.js")


def locked_versions() -> dict[str, str]:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in ("leaflet", "leaflet.markercluster")}


def test_the_locked_versions_are_the_documented_ones():
    assert locked_versions() == {"leaflet": "1.9.4", "leaflet.markercluster": "1.5.3"}
    manifest = json.loads((ROOT / "package.json").read_text())
    assert manifest["dependencies"] == {"leaflet": "1.9.4", "leaflet.markercluster": "1.5.3"}  # exact, no ranges


def test_every_vendored_file_is_present_with_its_licence():
    missing = [name for name in FILES if not (VENDOR / name).is_file()]
    assert not missing, missing
    assert "BSD 2-Clause" in (VENDOR / "LICENSE").read_text()
    assert "Permission is hereby granted" in (VENDOR / "markercluster" / "MIT-LICENCE.txt").read_text()


@pytest.mark.parametrize("name", COMPRESSED)
def test_each_compressed_copy_is_the_same_file(name):
    assert gzip.decompress((VENDOR / f"{name}.gz").read_bytes()) == (VENDOR / name).read_bytes()


@pytest.mark.skipif(not (NODE_MODULES / "leaflet").is_dir(), reason="node_modules/leaflet absent: run `npm ci`")
def test_vendored_files_equal_the_locked_npm_packages():
    for package, version in locked_versions().items():
        installed = json.loads((NODE_MODULES / package / "package.json").read_text())["version"]
        assert installed == version, f"node_modules/{package} is {installed}, package-lock.json locks {version}: npm ci"
    differ = [
        name
        for name, (package, path) in FILES.items()
        if (VENDOR / name).read_bytes() != (NODE_MODULES / package / path).read_bytes()
    ]
    assert not differ, f"vendored files differ from the npm packages: {differ}"
