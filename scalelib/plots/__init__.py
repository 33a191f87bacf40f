"""Figures: one shared style (:mod:`~scalelib.plots.style`, with the panel helper
:func:`~scalelib.plots.style.small_multiples`) and the book's figures, by what they draw:
:mod:`~scalelib.plots.scores` (the data, with fits), :mod:`~scalelib.plots.losses`
(validation loss; accuracy against loss), :mod:`~scalelib.plots.forecasts` (forecasts
beyond a cut, with intervals), :mod:`~scalelib.plots.errors` (backtest errors),
:mod:`~scalelib.plots.tradeoffs` (iso-accuracy, optimal ratios, total compute), and
:mod:`~scalelib.plots.glue` (a figure into a chapter)."""
