"""The compute cuts of the book's backtests, as data: each value is defined here once.

A backtest by compute fits the runs with ``C <= cut`` and forecasts the larger ones.
The chapters and their data modules (:mod:`scalelib.book.direct_data`,
:mod:`scalelib.book.two_stage_data`, :mod:`scalelib.book.ratio_data`) read their cuts from here.
"""

from __future__ import annotations

__all__ = ["BOOK_CUTS", "PAPER_CUT", "RATIO_CUT"]

BOOK_CUTS: dict[str, tuple[float, float]] = {"dclm": (1e21, 1e22), "c4": (1e20, 1e21)}
"""The book's two compute cuts (FLOPs) per mixture, a decade apart: about 1.6 and 0.6
decades below DCLM's largest run, 1.8 and 0.8 below C4's (the C4 runs stop near 6e21
FLOPs, so its cuts are a decade lower)."""

PAPER_CUT = 6e21
"""The paper's cut on DCLM: its figures are fitted below about 6e21 FLOPs."""

RATIO_CUT = BOOK_CUTS["dclm"][0]
"""The cut of the ratio chapter (DCLM, every ratio): the book's first DCLM cut, about one
decade below the largest DCLM runs at ratios other than 20, so that every ratio keeps
held-out runs."""
