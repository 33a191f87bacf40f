"""The library as it was at a former commit, importable beside today's, to time and compare fits side by side.

``former_scalelib(commit)`` extracts ``scalelib/`` of ``commit`` from this repository's
git history (``git archive``) into a temporary folder, renamed ``former_scalelib`` (its
own imports rewritten to match), and imports it. The speed benchmarks call the former
and the new fit on the same data in one process, so that their times share the
machine's load and their objectives can be compared fit by fit.
"""

from __future__ import annotations

import atexit
import importlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

BASE_COMMIT = "9b41586"
"""The commit before the fits of Eq. 6 and of the logistic map were sped up (issue 12)."""

REPOSITORY = Path(__file__).resolve().parents[1]


def former_scalelib(commit: str = BASE_COMMIT) -> ModuleType:
    """Import ``scalelib`` as of ``commit`` under the name ``former_scalelib`` (once per process)."""
    if "former_scalelib" in sys.modules:
        return sys.modules["former_scalelib"]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "scalelib"], cwd=REPOSITORY, check=True, capture_output=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="former_scalelib_"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = folder / "former_scalelib"
    (folder / "scalelib").rename(package)
    for module in package.glob("*.py"):
        module.write_text(re.sub(r"\bscalelib\b", "former_scalelib", module.read_text()))
    sys.path.insert(0, str(folder))
    return importlib.import_module("former_scalelib")


def former_module(name: str, commit: str = BASE_COMMIT) -> ModuleType:
    """One module of :func:`former_scalelib`, e.g. ``former_module("saturating_law")``."""
    former_scalelib(commit)
    return importlib.import_module(f"former_scalelib.{name}")
