"""The confirmed photos exported in the image-classification layout (ImageFolder) for training the
next model: <root>/<class code>/<sha256>.<ext>, labels.csv, README.md; audited."""

from __future__ import annotations

import csv
import hashlib

import pytest

from chinhquyenso.core.audit import AuditRecord
from chinhquyenso.core.errors import DomainError
from chinhquyenso.pests.models import IdentificationPhoto
from chinhquyenso.pests.services import identification as service
from tests.pests import identify_fixtures
from tests.pests.onnx_models import photo

tiny_model = identify_fixtures.tiny_model  # fixtures shared by the identification tests
expert = identify_fixtures.expert


def label(expert, identification, *codes):
    photos = list(identification.photos.order_by("pk"))
    service.confirm(actor=expert, identification=identification, labels=dict(zip([p.pk for p in photos], codes)))


@pytest.fixture
def labelled(pest_catalog, tiny_model, expert):
    a = service.submit(photos=[photo("red"), photo("red", fmt="PNG", noise=1)])
    label(expert, a, "ray-nau", "ray-nau")
    b = service.submit(photos=[photo("green")])
    label(expert, b, "none")
    c = service.submit(photos=[photo("blue")])
    label(expert, c, "dao-on")
    service.submit(photos=[photo("purple")])  # not confirmed: not exported
    # The same bytes sent again by someone else and confirmed the same: one file.
    d = service.submit(photos=[photo("blue")])
    label(expert, d, "dao-on")
    return expert


def test_the_layout(labelled, tmp_path):
    root = tmp_path / "bo-anh"
    result = service.export_labels(root, actor=labelled)
    assert result["photos"] == 4 and result["classes"] == {"dao-on": 1, "none": 1, "ray-nau": 2}
    assert result["conflicts"] == 0 and result["skipped"] == 0
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert "labels.csv" in files and "README.md" in files
    images = [f for f in files if "/" in f]
    assert {f.split("/")[0] for f in images} == {"ray-nau", "none", "dao-on"} and len(images) == 4
    for relative in images:
        code, name = relative.split("/")
        sha256, extension = name.split(".")
        assert hashlib.sha256((root / relative).read_bytes()).hexdigest() == sha256
        assert extension in ("jpg", "png")
    with (root / "labels.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["path"] for r in rows] == sorted(images)
    by_class = {r["class"]: r for r in rows}
    assert (
        by_class["dao-on"]["class_name"] == "Đạo ôn" and by_class["none"]["class_name"] == "Không có sinh vật gây hại"
    )
    assert by_class["dao-on"]["model_top1"] == "dao-on" and by_class["dao-on"]["model_version"].startswith(
        "tiny-pests@"
    )
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "| ray-nau | Rầy nâu | 2 |" in readme and "**4**" in readme and "ImageFolder" in readme
    record = AuditRecord.objects.get(action="pests.identify.export")
    assert record.actor == labelled and record.after["photos"] == 4 and record.after["classes"]["ray-nau"] == 2


def test_the_same_bytes_labelled_differently_are_left_out(labelled, tmp_path):
    e = service.submit(photos=[photo("green")])  # the same bytes as the "none" photo …
    label(labelled, e, "ray-nau")  # … labelled otherwise
    result = service.export_labels(tmp_path / "out", actor=None)
    assert result["conflicts"] == 2 and "none" not in result["classes"]
    assert "Bỏ qua 2 ảnh" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")


def test_a_directory_with_content_is_refused(labelled, tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(DomainError, match="đã có nội dung") as refused:
        service.export_labels(tmp_path, actor=labelled)
    assert refused.value.field == "directory"
    assert not AuditRecord.objects.filter(action="pests.identify.export").exists()


def test_a_photo_missing_from_storage_is_skipped(labelled, tmp_path):
    missing = IdentificationPhoto.objects.filter(label__code="dao-on").first().file
    missing.file.storage.delete(missing.file.name)
    result = service.export_labels(tmp_path / "out", actor=labelled)
    assert result["skipped"] == 1 and "dao-on" not in result["classes"]
    assert not (tmp_path / "out" / "dao-on").exists() or not any((tmp_path / "out" / "dao-on").iterdir())


def test_nothing_confirmed_yet(pest_catalog, tmp_path):
    result = service.export_labels(tmp_path / "empty", actor=None)
    assert result["photos"] == 0
    assert (tmp_path / "empty" / "labels.csv").read_text(encoding="utf-8").startswith("path,class,")
