"""The book itself: table of contents, notebook collection, build configuration, and a warning-free build."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGE_SUFFIXES = {".ipynb", ".md"}


def _chapter_files() -> list[Path]:
    return [p for p in (ROOT / "chapters").rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts]


def test_toc_and_chapters_folder_agree(toc_pages):
    listed = set(toc_pages.values())
    pages = {p for p in _chapter_files() if p.suffix in PAGE_SUFFIXES}
    assert pages - listed == set(), "files in chapters/ missing from _toc.yml"
    assert listed - pages == set(), "_toc.yml entries outside chapters/"
    assert [p for p in _chapter_files() if p.suffix not in PAGE_SUFFIXES] == [], "chapters/ holds only pages"


def test_every_toc_notebook_is_collected_by_nbval(toc_pages):
    notebooks = [p for p in toc_pages.values() if p.suffix == ".ipynb"]
    assert notebooks, "the table of contents lists no notebook"
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "chapters"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout
    for notebook in notebooks:
        cells = re.findall(rf"^{re.escape(str(notebook.relative_to(ROOT)))}::Cell \d+$", collected, re.MULTILINE)
        assert cells, f"nbval collected no cell of {notebook.relative_to(ROOT)}:\n{collected[-2000:]}"


def test_book_builds_without_warnings(built_html, toc_pages):
    for entry, source in toc_pages.items():
        page = built_html / f"{entry}.html"
        assert page.is_file(), f"{page} was not built"
        if source.suffix == ".ipynb":
            assert "<img " in page.read_text(), f"{page} has no figure"


def test_build_renders_committed_outputs_and_fresh_execution_config_matches():
    """_config.yml executes nothing (nbval executes each chapter once and checks the committed
    outputs); _config_execute.yml, for a build from a fresh execution, is the same file with
    ``execute_notebooks: force``. Jupyter Book 1 reads a single config file, so the second is a
    full copy and must not drift (e.g. when the repository buttons are switched on)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    fresh = yaml.safe_load((ROOT / "_config_execute.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off", "the book build should render the committed outputs"
    assert fresh["execute"]["execute_notebooks"] == "force", "_config_execute.yml should execute every notebook"
    fresh["execute"]["execute_notebooks"] = "off"
    assert fresh == config, (
        "_config_execute.yml differs from _config.yml beyond execute_notebooks: copy _config.yml over it, "
        "set `execute_notebooks: force` and keep its header comment"
    )


CODE_COLUMN = 76
"""Characters of code the rendered text column shows without a scroll bar (1280-px window,
the theme's default layout: 684 px at about 8.8 px per character)."""


def test_code_lines_fit_the_rendered_column(toc_pages):
    """Every code line of every chapter fits the column (format with ``ruff format --line-length 76``)."""
    too_long = [
        f"{source.relative_to(ROOT)}, cell {index}: {len(line)} characters: {line.strip()[:60]}"
        for source in toc_pages.values() if source.suffix == ".ipynb"
        for index, cell in enumerate(nbformat.read(source, as_version=4).cells) if cell.cell_type == "code"
        for line in cell.source.splitlines() if len(line) > CODE_COLUMN
    ]
    assert too_long == [], "\n".join(too_long)
