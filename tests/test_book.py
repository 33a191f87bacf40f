"""The book itself: table of contents, notebook collection, and a warning-free build."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "_build"


def _toc_files() -> list[str]:
    """Every file listed in _toc.yml (root and chapters, recursively), without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("chapters", "sections"):
                walk(entry.get(key, []))
            for part in entry.get("parts", []):
                walk(part.get("chapters", []))

    walk(toc.get("chapters", []) + toc.get("parts", []))
    return files


def _resolve(entry: str) -> Path:
    matches = [ROOT / f"{entry}{suffix}" for suffix in (".ipynb", ".md") if (ROOT / f"{entry}{suffix}").exists()]
    assert len(matches) == 1, f"_toc.yml entry {entry!r} should match exactly one .ipynb or .md file, found {matches}"
    return matches[0]


def test_toc_and_chapters_folder_agree():
    listed = {_resolve(entry).relative_to(ROOT) for entry in _toc_files()}
    on_disk = {
        path.relative_to(ROOT)
        for path in (ROOT / "chapters").rglob("*")
        if path.is_file() and ".ipynb_checkpoints" not in path.parts and path.suffix in {".ipynb", ".md"}
    }
    assert on_disk - listed == set(), "files in chapters/ missing from _toc.yml"
    assert listed - on_disk == set(), "_toc.yml entries outside chapters/"
    others = [p for p in (ROOT / "chapters").rglob("*") if p.is_file() and p.suffix not in {".ipynb", ".md"}
              and ".ipynb_checkpoints" not in p.parts]
    assert others == [], "chapters/ should hold only the book's pages"


def test_every_toc_notebook_is_collected_by_nbval():
    notebooks = [p for p in map(_resolve, _toc_files()) if p.suffix == ".ipynb"]
    assert notebooks, "the table of contents lists no notebook"
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "chapters"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout
    for notebook in notebooks:
        cells = re.findall(rf"^{re.escape(str(notebook.relative_to(ROOT)))}::Cell \d+$", collected, re.MULTILINE)
        assert cells, f"nbval collected no cell of {notebook.relative_to(ROOT)}:\n{collected[-2000:]}"


def test_book_builds_without_warnings():
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    build = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "-W", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, f"jupyter-book build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    for entry in _toc_files():
        page = BUILD_DIR / "html" / f"{entry}.html"
        assert page.is_file(), f"{page} was not built"
        if _resolve(entry).suffix == ".ipynb":
            assert "<img " in page.read_text(), f"{page} has no figure"
