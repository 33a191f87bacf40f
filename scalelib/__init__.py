"""scalelib: downstream scaling laws for LLMs, fitted to real evaluation results.

The helper library of the book *Downstream scaling laws*. It reproduces and extends
the direct framework of Krajewski et al. (2025), arXiv:2512.08894. Its layout::

    scalelib/
      interfaces.py  the shared types: Law (one law, described once), PredictionInterval
      data/          the released results, benchmark metadata, chance normalisation, checks
      laws/          one module per law, each with one Law; laws/registry.py lists them
      evaluation/    backtests, prediction intervals, baselines, the auto forecaster
      plots/         style.py (style, colours, the panel helper), then figures by what they
                     draw: scores, losses, forecasts, errors, tradeoffs (glue.py: into a chapter)
      book/          what the chapters share: their sets of runs and compute cuts
      runs/          your own runs: read a runs file, forecast it, warn where it says little
      cli.py         python -m scalelib RUNS.csv (cli_run.py: what it does once parsed)
      tables.py      captioned, narrow result tables for the book

A new law goes in a module of its own under ``laws/`` with one ``Law``, added to
:data:`scalelib.laws.registry.LAWS`, or, outside the library, registered with
:func:`scalelib.laws.registry.register_law` (``tests/test_new_law.py`` does this for a
toy law and runs it through backtests, intervals, the command line and a figure).
"""

__version__ = "0.1.0"
