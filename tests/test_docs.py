"""The user guide builds with ``mkdocs build --strict`` (a broken link or reference fails), and
the README's links point at files in the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_user_guide_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(site)],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    assert "export_sklearn" in reference and "time_limit" in reference  # from the docstrings
    assert (site / "guide" / "rules" / "index.html").is_file()


def test_readme_links_point_at_files_in_the_repository() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in t]
    assert "docs/index.md" in targets
    assert [t for t in targets if not (ROOT / t).exists()] == []
    assert "ARCHITECTURE.md" not in text
