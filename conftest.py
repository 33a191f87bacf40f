"""nbval compares a glued figure like any other figure: not byte for byte.

nbval leaves ``image/png`` and ``image/jpeg`` outputs out of its comparison by design:
the pixels of a plot can change with the last bits of the numbers behind it (a contour
line of a fitted surface moves by a fraction of a pixel from one BLAS kernel to the
next) and with the renderer. A figure glued for ``{glue:figure}`` is the same PNG
stored under myst-nb's ``application/papermill.record/`` prefix, which nbval does not
recognise as an image; this hook adds those keys to the ones nbval skips. Everything
else stays compared exactly, including the glued numbers
(``application/papermill.record/text/plain``) and each figure's text line.
"""

from __future__ import annotations

import pytest

GLUED_IMAGES = (
    "application/papermill.record/image/png",
    "application/papermill.record/image/jpeg",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        notebook = item.parent
        skipped = getattr(notebook, "skip_compare", None)
        if skipped is not None and "image/png" in skipped and GLUED_IMAGES[0] not in skipped:
            notebook.skip_compare = skipped + GLUED_IMAGES
