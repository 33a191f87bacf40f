"""Your own runs: read a runs file, forecast it with any law, warn where it says little.

Behind ``python -m scalelib RUNS.csv`` (:mod:`scalelib.cli`) and
:func:`scalelib.runs.your_runs.forecast_runs`.
"""
