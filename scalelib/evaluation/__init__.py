"""Evaluation: backtests by a compute cut, prediction intervals and the forecaster.

:mod:`~scalelib.evaluation.backtest` (point forecasts held out by a compute cut),
:mod:`~scalelib.evaluation.intervals` (intervals for every law, and their coverage),
:mod:`~scalelib.evaluation.auto_forecast` (the evidence-weighted forecaster), the naive
baselines, win counts and method comparisons. Everything here takes a law description
or a forecaster, never a law's name in an ``if``.
"""
