"""Glue a figure into a chapter: :func:`glue_figure`."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["glue_figure"]


def glue_figure(name: str, figure: Figure) -> None:
    """Glue ``figure`` under ``name`` for a numbered ``{glue:figure}`` and close it.

    The chapter then shows it where its prose needs it, with a caption and a label
    that ``{numref}`` refers to::

        ```{glue:figure} name
        :name: fig-name

        Caption.
        ```

    Closing keeps the notebook from also showing the figure as a plain cell output,
    and returning nothing keeps the cell from printing a ``<Figure ...>`` line (a
    trailing semicolon does not suppress it reliably under nbval).
    """
    from myst_nb import glue

    if not isinstance(figure, Figure):
        raise TypeError(f"glue_figure needs a matplotlib Figure, got {type(figure).__name__}")
    glue(name, figure, display=False)
    plt.close(figure)
