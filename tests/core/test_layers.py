"""The layer contract ([tool.importlinter] in pyproject.toml) catches an import against the layers.

lint-imports runs on a copy of the package (PYTHONPATH points at the copy, which shadows the
installed one), with the project's own contract read from pyproject.toml (the positional config file;
`--config` is deprecated in import-linter 2).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "chinhquyenso"
PYPROJECT = ROOT / "pyproject.toml"
FORBIDDEN = "import chinhquyenso.feedback.models  # core may import no app above it\n"


def copy_package(dest: Path) -> Path:
    """The package's Python files under dest/chinhquyenso."""
    for source in PACKAGE.rglob("*.py"):
        if "__pycache__" in source.parts:
            continue
        target = dest / "chinhquyenso" / source.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return dest / "chinhquyenso"


def lint_imports(path: Path) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(path)}
    return subprocess.run(
        [str(command), "--no-cache", "--no-logo", str(PYPROJECT)],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_contract_rejects_core_importing_an_app_above_it(tmp_path):
    package = copy_package(tmp_path)
    text = package / "core" / "text.py"
    source = text.read_text()
    text.write_text(source + ("" if source.endswith("\n") else "\n") + FORBIDDEN)
    line = len(text.read_text().splitlines())

    result = lint_imports(tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "chinhquyenso.core is not allowed to import chinhquyenso.feedback" in output
    assert f"chinhquyenso.core.text -> chinhquyenso.feedback.models (l.{line})" in output


def test_contract_kept_by_the_code_as_it_is(tmp_path):
    copy_package(tmp_path)

    result = lint_imports(tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Contracts: 1 kept, 0 broken." in output


def test_the_picture_in_the_architecture_page_is_current():
    """docs/architecture.md shows the imports as the code has them (regenerate with scripts/layers.py)."""
    import re

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "layers.py")], capture_output=True, text=True, timeout=60, check=True
    )
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    shown = re.search(r"```mermaid\n(.*?)```", page, re.S).group(1).strip()
    assert shown == result.stdout.strip(), (
        "run `.venv/bin/python scripts/layers.py` and paste it into docs/architecture.md"
    )
