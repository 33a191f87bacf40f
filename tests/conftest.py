"""Shared fixtures: the table of contents and the built book (one build per session, shared by the workers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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
def book_output(tmp_path_factory, worker_id) -> Path:
    """Where this test session builds the book: one folder for the whole session.

    Under pytest-xdist every worker has a base temporary folder of its own inside one
    folder of the session; the book goes there, so that the workers that need it
    (test_book, test_browser) share a single build instead of building it each.
    """
    base = tmp_path_factory.getbasetemp()
    return (base.parent if worker_id != "master" else base) / "book"


BUILD_TIMEOUT_SECONDS = 1800
"""How long a worker waits for the build another worker started."""


@pytest.fixture(scope="session")
def book_build(book_output) -> subprocess.CompletedProcess:
    """Build the book as the README does (-W: warnings are errors), into ``book_output``, once per session.

    The first worker to claim the build (an exclusive create of a marker file, atomic on
    every platform) runs it and writes its result next to the folder; any other worker
    waits for that result and reads it.
    """
    claim, result_file = book_output.with_suffix(".claimed"), book_output.with_suffix(".result.json")
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        waited = 0.0
        while not result_file.exists():
            if waited > BUILD_TIMEOUT_SECONDS:
                pytest.fail(f"No book build result after {BUILD_TIMEOUT_SECONDS} s: {result_file}")
            time.sleep(0.5)
            waited += 0.5
        saved = json.loads(result_file.read_text())
        return subprocess.CompletedProcess(saved["args"], saved["returncode"], saved["stdout"], saved["stderr"])
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    build = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "-W", "--keep-going", "--path-output", str(book_output)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    partial = result_file.with_suffix(".partial")
    partial.write_text(json.dumps({
        "args": build.args, "returncode": build.returncode, "stdout": build.stdout, "stderr": build.stderr,
    }))
    partial.replace(result_file)  # appears whole, never half-written
    return build


@pytest.fixture(scope="session")
def built_html(book_build, book_output) -> Path:
    """The built HTML folder; fails the requesting test if the build failed."""
    if book_build.returncode != 0:
        log = (book_build.stdout + book_build.stderr).splitlines()
        causes = [line for i, line in enumerate(log) if "WARNING" in line or "ERROR" in line
                  or (i > 0 and "treated as error" in log[i - 1])]
        pytest.fail("jupyter-book build failed:\n" + "\n".join(causes or log[-60:]))
    return book_output / "_build" / "html"
