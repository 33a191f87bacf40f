"""Shared fixtures: the table of contents and the built book (one build per session)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _toc_entries() -> list[str]:
    """Every file listed in _toc.yml (root, chapters, sections, parts), without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]]

    def walk(items: list[dict]) -> None:
        for item in items:
            if "file" in item:
                entries.append(item["file"])
            for key in ("chapters", "sections"):
                walk(item.get(key, []))

    walk(toc.get("chapters", []) + toc.get("parts", []))
    return entries


def _source_of(entry: str) -> Path:
    matches = [ROOT / f"{entry}{suffix}" for suffix in (".ipynb", ".md") if (ROOT / f"{entry}{suffix}").exists()]
    assert len(matches) == 1, f"_toc.yml entry {entry!r} should match exactly one .ipynb or .md file, found {matches}"
    return matches[0]


@pytest.fixture(scope="session")
def toc_pages() -> dict[str, Path]:
    """Each _toc.yml entry (e.g. ``chapters/01_data``) and its source file, in reading order."""
    return {entry: _source_of(entry) for entry in _toc_entries()}


@pytest.fixture(scope="session")
def book_output(tmp_path_factory) -> Path:
    """Where this test session builds the book: a folder of its own, so that parallel
    workers (pytest-xdist) never write into one build at once."""
    return tmp_path_factory.mktemp("book")


@pytest.fixture(scope="session")
def book_build(book_output) -> subprocess.CompletedProcess:
    """Build the book as the README does (-W: warnings are errors), into ``book_output``."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "-W", "--keep-going", "--path-output", str(book_output)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )


@pytest.fixture(scope="session")
def built_html(book_build, book_output) -> Path:
    """The built HTML folder; fails the requesting test if the build failed."""
    if book_build.returncode != 0:
        log = (book_build.stdout + book_build.stderr).splitlines()
        causes = [line for i, line in enumerate(log) if "WARNING" in line or "ERROR" in line
                  or (i > 0 and "treated as error" in log[i - 1])]
        pytest.fail("jupyter-book build failed:\n" + "\n".join(causes or log[-60:]))
    return book_output / "_build" / "html"
