"""Forecast benchmark scores from your own runs: ``python -m scalelib RUNS.csv``.

A thin wrapper around :func:`scalelib.runs.your_runs.forecast_runs`: reads a CSV of training
runs and their scores (:func:`~scalelib.runs.runs_reader.read_runs`), and for every group of
runs (one mixture, one ratio, one metric, one benchmark; never pooled) backtests a law
(fit the runs at or below a compute cut, score every run above it) and forecasts the
target compute with a prediction interval::

    python -m scalelib data/example_runs_multi.csv --law ratio --target-flops 1e23 --output forecasts.json

Input: a CSV file with a header row and one row per (run, benchmark). Columns
(names exact, any order; other columns are ignored unless named by an option)::

  benchmark      yes     benchmark name; common aliases are understood (lambada, arc_e, obqa, ...)
  accuracy       yes     score of the run, a fraction in [0, 1] (may be called 'value')
  flops          one of  training compute C in FLOPs, or
  params+tokens  three   N and D: C = 6 N D, or
  params+tpr     ways    N and tokens per parameter: D = tpr N
  run            no      run id (default: the file line)
  mixture, tpr   no      families of runs: each value is fitted separately
  metric         no      each metric fitted separately; losses and likelihoods set aside
  chance         no      chance accuracy; empty cells are filled from the table of known
                         tasks (scalelib.data.benchmark_info.chance_level_table)
  n_items        no      benchmark size, for near-chance points and --noise binomial
  k              no      pass@k's k, for --law passk (Eq. 5)
  <loss>         no      a validation loss, for the two-stage laws (--loss-column NAME)

Filters (``--benchmark``, ``--where COLUMN=VALUES``, ``--metric``) are applied before
any cell is validated. A group that cannot be forecast is reported with its reason, and
the others are forecast. Exit codes: **0** at least one group was forecast (refused
groups are listed with their reasons); **1** the file was read but no group could be
forecast (every reason printed); **2** the file or the arguments are unusable (a
one-line ``error:`` on stderr, nothing else).

``--law auto`` forecasts with :mod:`scalelib.evaluation.auto_forecast` (the laws weighted by
backtests inside the runs, a verdict ``forecast`` or ``unpredictable`` per group, with
its reason); ``--backtest-output PATH.csv`` writes one row per held-out (run,
benchmark) with the columns of :data:`scalelib.runs.auto_runs.BACKTEST_COLUMNS`, for any law.

This module holds the arguments and :func:`main`; reading the file is
:mod:`scalelib.runs.runs_reader`, and forecasting, printing and saving is
:mod:`scalelib.cli_run`. ``read_runs``, ``RunsFileError``, ``CommandLineError`` and
``write_forecasts`` are importable from here too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scalelib.runs.auto_runs import BACKTEST_COLUMNS
from scalelib.cli_run import _auto_laws, run, write_forecasts
from scalelib.cli_run import (  # noqa: F401 (importable from here, as before the split)
    ACCURACY_COLUMNS,
    REPRODUCIBLE_METADATA,
    SVG_HASH_SALT,
    write_backtest,
)
from scalelib.evaluation.intervals import LEVEL, N_RESAMPLES
from scalelib.laws.registry import LAWS
from scalelib.runs.runs_reader import CommandLineError, RunsFileError, read_runs
from scalelib.runs.runs_reader import (  # noqa: F401 (importable from here, as before the split)
    ACCURACY_NAMES,
    COMPUTE_COLUMNS,
    SHOWN_LINES,
)
from scalelib.data.validation import MIN_BOOTSTRAP_RESAMPLES, ScalingDataError
from scalelib.runs.your_runs import forecast_laws

__all__ = ["RunsFileError", "CommandLineError", "INPUT_FORMAT", "read_runs", "write_forecasts", "main"]

INPUT_FORMAT = __doc__.split("Input: ", 1)[1].split("\n\nFilters", 1)[0].replace("::\n", ":\n", 1)
"""The input format, as ``--help`` prints it (the docstring's literal-block marker ``::`` made ``:``)."""


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are a one-line :class:`RunsFileError` (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CommandLineError(f"{message} (see python -m scalelib --help)")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _whole_number(minimum: int):
    """An argparse type: a whole number >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}")
        return value

    return parse


def _level(text: str) -> float:
    value = _positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a level between 0 and 1 (e.g. 0.9), got {text!r}")
    return value


def _where(text: str) -> tuple[str, list[str]]:
    """``COLUMN=V1,V2`` as ``(column, [v1, v2])``."""
    column, equals, values = text.partition("=")
    if not equals or not column.strip() or not values.strip():
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE[,VALUE...], got {text!r}")
    return column.strip(), [value.strip() for value in values.split(",")]


def _parser() -> argparse.ArgumentParser:
    """The arguments, the laws among them read from the registry (:data:`scalelib.laws.registry.LAWS`) when called."""
    laws = forecast_laws()
    analytic = " and ".join(name for name, law in LAWS.items() if law.has_analytic_interval)
    parser = _ArgumentParser(
        prog="python -m scalelib",
        description="Fit a scaling law to each group of your runs (mixture, ratio, metric, benchmark; never "
                    "pooled), backtest it, and forecast with prediction intervals. Groups that cannot be "
                    "fitted are listed with the reason; the others are forecast.",
        epilog="Input: " + INPUT_FORMAT + "\n\nExit codes: 0 something was forecast; 1 nothing could be forecast (reasons "
               "printed); 2 unusable file or arguments.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runs", type=Path, help="CSV file of runs, one row per (run, benchmark)")
    parser.add_argument("--law", default="direct", choices=[*laws, "auto"],
                        help="law to fit: " + "; ".join(f"{name}: {text}" for name, text in laws.items())
                        + f"; auto: {_auto_laws()} weighted by backtests inside the runs, "
                        "with a verdict forecast/unpredictable (scalelib.evaluation.auto_forecast) (default: %(default)s)")
    parser.add_argument("--target-flops", type=_positive_float, nargs="+", metavar="FLOPS",
                        help="compute of the forecasts (default: 10 x each group's largest run)")
    parser.add_argument("--cut", type=_positive_float, metavar="FLOPS",
                        help="backtest: fit runs with C <= cut, score every run above (default: hold out the top "
                             "third of each group's log-compute range)")
    parser.add_argument("--level", type=_level, default=LEVEL, help="interval coverage (default: %(default)s)")
    parser.add_argument("--interval", choices=["analytic", "bootstrap"],
                        help=f"interval method (default: analytic for {analytic}, bootstrap otherwise)")
    parser.add_argument("--noise", choices=["residuals", "binomial"], default="residuals",
                        help="a new run's noise: resampled residuals or binomial sqrt(p(1-p)/n_items) "
                             "(bootstrap only; default: %(default)s)")
    parser.add_argument("--resamples", type=_whole_number(MIN_BOOTSTRAP_RESAMPLES), default=N_RESAMPLES,
                        help=f"bootstrap resamples, at least {MIN_BOOTSTRAP_RESAMPLES} (default: %(default)s)")
    parser.add_argument("--seed", type=_whole_number(0), default=0, help="bootstrap seed (default: %(default)s)")
    parser.add_argument("--benchmark", nargs="+", metavar="NAME", help="only these benchmarks (filtered first)")
    parser.add_argument("--where", type=_where, action="append", metavar="COLUMN=VALUES",
                        help="only rows whose COLUMN holds one of the comma-separated VALUES, e.g. tpr=20,40 "
                             "(filtered first; may be repeated)")
    parser.add_argument("--group", action="append", default=[], metavar="COLUMN",
                        help="a further column whose values are fitted separately (mixture, tpr and metric "
                             "always are)")
    parser.add_argument("--metric", metavar="NAME", help="with a metric column: fit this metric only")
    parser.add_argument("--loss-column", metavar="NAME", help="validation-loss column, for the two-stage laws")
    parser.add_argument("--aggregate", choices=["mean"],
                        help="forecast the mean accuracy over the --benchmark tasks instead of each")
    parser.add_argument("--figure", type=Path, metavar="PATH", help="save a figure of the forecasts (png, pdf, svg)")
    parser.add_argument("--output", type=Path, metavar="PATH",
                        help="save the forecast table (.csv or .json): every group, its law, forecasts with "
                             "their position relative to the fitted runs, reasons and warnings")
    parser.add_argument("--backtest-output", type=Path, metavar="PATH.csv",
                        help="save one row per held-out (run, benchmark) of the backtest: "
                        + ", ".join(BACKTEST_COLUMNS) + " (accuracies; predicted, lower, upper empty when "
                        "unpredictable)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m scalelib``: 0 something forecast, 1 nothing could be, 2 unusable input."""
    parser = _parser()
    try:
        return run(parser.parse_args(argv))
    except (RunsFileError, CommandLineError, ScalingDataError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
