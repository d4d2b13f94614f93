"""`cqs sign`, `cqs signing demo-pki`, `cqs signing check-key`."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chinhquyenso.signing import pki as pki_module
from tests.signing.helpers import assert_valid, statuses

pytestmark = pytest.mark.django_db


def test_sign_writes_a_valid_signed_pdf(province, signing_keys, sample_pdf, test_pki, pki_services, tmp_path):
    signing_keys.for_agency(province["tu_phap"])
    source, target = tmp_path / "vao.pdf", tmp_path / "ra.pdf"
    source.write_bytes(sample_pdf)
    call_command("sign", str(source), str(target), "--agency", "000.00.15.H01", "--profile", "B-T")
    _, (status,) = statuses(target.read_bytes(), test_pki, allow_fetching=False)
    assert_valid(status)
    assert status.timestamp_validity is not None
    assert source.read_bytes() == sample_pdf


def test_sign_without_a_key_writes_nothing(province, signing_settings, sample_pdf, tmp_path):
    source, target = tmp_path / "vao.pdf", tmp_path / "ra.pdf"
    source.write_bytes(sample_pdf)
    with pytest.raises(CommandError, match="chưa cấu hình chữ ký số"):
        call_command("sign", str(source), str(target), "--agency", "so-tu-phap", "--profile", "B-B")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_sign_with_the_tsa_down_writes_nothing(province, signing_keys, sample_pdf, tmp_path):
    signing_keys.for_agency(province["tu_phap"])
    source, target = tmp_path / "vao.pdf", tmp_path / "ra.pdf"
    source.write_bytes(sample_pdf)
    with pytest.raises(CommandError, match="dấu thời gian"):
        call_command("sign", str(source), str(target), "--agency", "so-tu-phap", "--profile", "B-T")
    assert list(tmp_path.iterdir()) == [source]


def test_sign_refuses_to_overwrite_its_input(province, signing_keys, sample_pdf, tmp_path):
    signing_keys.for_agency(province["tu_phap"])
    source = tmp_path / "vao.pdf"
    source.write_bytes(sample_pdf)
    with pytest.raises(CommandError, match="khác tệp vào"):
        call_command("sign", str(source), str(source), "--agency", "so-tu-phap", "--profile", "B-B")


def test_demo_pki_writes_a_usable_pki(tmp_path, capsys):
    call_command("signing", "demo-pki", str(tmp_path / "pki"), "--issue", "Sở Y tế")
    out = capsys.readouterr().out
    assert "THỬ NGHIỆM" in out and "so-y-te" in out
    built = pki_module.load_pki(tmp_path / "pki")
    assert built.root_cert_path.exists() and built.tsa_cert_path.exists() and (tmp_path / "pki" / "seal.png").exists()
    with pytest.raises(CommandError, match="đã có"):
        call_command("signing", "demo-pki", str(tmp_path / "pki"))


def test_check_key_fills_the_fingerprint(province, signing_keys, capsys):
    key = signing_keys.for_agency(province["tu_phap"])
    call_command("signing", "check-key", "--agency", "so-tu-phap")
    key.refresh_from_db()
    assert len(key.certificate_fingerprint) == 64 and key.certificate_fingerprint in capsys.readouterr().out
    assert key.certificate_expires_at is not None and "Sở Tư pháp" in key.certificate_subject
