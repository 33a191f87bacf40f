"""What ``python -m scalelib`` does once its arguments are parsed: read, forecast, print, save.

:func:`run` reads the runs file (:func:`scalelib.runs.runs_reader.read_runs`), forecasts every
group with :func:`scalelib.runs.your_runs.forecast_runs` (or, for ``--law auto``, with
:func:`scalelib.runs.auto_runs.forecast_runs_auto`), prints the backtest and the forecasts as
tables, and writes what was asked for: the forecast table (:func:`write_forecasts`), one
row per held-out run (:func:`write_backtest`) and a figure. The arguments are those of
:mod:`scalelib.cli`; :func:`write_forecasts` is importable from there too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from scalelib.evaluation.auto_candidates import DEFAULT_CANDIDATES
from scalelib.runs.auto_runs import AutoRunsForecast, backtest_table, forecast_runs_auto
from scalelib.laws.registry import LAWS
from scalelib.runs.runs_reader import CommandLineError, read_runs
from scalelib.runs.your_runs import RunsForecast, forecast_laws, forecast_runs

__all__ = ["write_forecasts", "write_backtest", "run"]

REPRODUCIBLE_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "ps": {"CreationDate": None},
                         "eps": {"CreationDate": None}}
"""Figure metadata by format: no creation date, so that a figure is byte-identical across runs
(with the fixed ``svg.hashsalt`` of :data:`SVG_HASH_SALT` for SVG element ids)."""

SVG_HASH_SALT = "scalelib"
"""matplotlib's ``svg.hashsalt`` while saving: SVG element ids derived from it, not drawn at random."""


def _auto_laws() -> str:
    """The laws ``--law auto`` weighs, its default candidates: the registered ones by their title, then the others
    (two-stage, which needs a loss column): ``"Eq. 2, Eq. 6, Eq. 4 (and two-stage with a loss column)"``."""
    titles = [LAWS[candidate.name].title for candidate in DEFAULT_CANDIDATES if candidate.name in LAWS]
    others = [candidate.name for candidate in DEFAULT_CANDIDATES if candidate.name not in LAWS]
    return ", ".join(titles) + "".join(f" (and {name} with a loss column)" for name in others)


ACCURACY_COLUMNS = ("predicted", "lower", "upper")
"""Printed with three decimals; compute with three significant digits; other numbers with two decimals."""


def _print_table(title: str, table: pd.DataFrame) -> None:
    def blank_if_missing(spec: str):
        return lambda value: "" if pd.isna(value) else format(value, spec)

    formats = {
        column: blank_if_missing(".3g" if column in ("flops", "tpr", "optimal_tpr", "k")
                                 else ".3f" if column in ACCURACY_COLUMNS else ".2f")
        for column in table.columns
        if pd.api.types.is_float_dtype(table[column]) or table[column].isna().all()
    }
    print(f"\n{title}")
    print(table.to_string(index=False, formatters=formats, na_rep=""))


def write_forecasts(result: RunsForecast | AutoRunsForecast, path: Path) -> None:
    """The forecast table as CSV or JSON (records), chosen by the file's extension.

    Raises
    ------
    CommandLineError
        For another extension, or a file that cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise CommandLineError(f"--output {path}: give a .csv or .json file name.")
    table = result.forecasts.drop(columns="panel")
    try:
        if suffix == ".csv":
            table.to_csv(path, index=False)
        else:
            table.to_json(path, orient="records", indent=1)
    except OSError as error:
        raise CommandLineError(f"Cannot save the forecasts to {path}: {error}") from None


def write_backtest(rows: pd.DataFrame, path: Path) -> None:
    """The ``--backtest-output`` CSV: exactly the columns of :data:`scalelib.runs.auto_runs.BACKTEST_COLUMNS`."""
    try:
        backtest_table(rows).to_csv(path, index=False)
    except OSError as error:
        raise CommandLineError(f"Cannot save the backtest to {path}: {error}") from None


def _run_auto(args: argparse.Namespace, frame: pd.DataFrame) -> AutoRunsForecast:
    """``--law auto``: the evidence-weighted forecaster, its backtest and its verdicts, printed."""
    result = forecast_runs_auto(frame, target_flops=args.target_flops, cut=args.cut, level=args.level,
                                group_by=args.group, loss_column=args.loss_column)
    print(f"Law: auto (scalelib.evaluation.auto_forecast): {_auto_laws()} weighted by backtests inside the runs; "
          f"{args.level:.0%} intervals from their errors; runs within 2 binomial standard errors of chance not fitted.")
    if len(result.summary):
        _print_table("Backtest: fitted at or below the cut, scored on every run above it (points)",
                     result.summary.rename(columns={"panel": "group"}))
    shown = [name for name in ("panel", "flops", "predicted", "lower", "upper", "distance_decades", "verdict",
                               "reason") if name in result.forecasts.columns]
    _print_table(f"Forecast at the target compute ({args.level:.0%} interval; distance in decades beyond the "
                 "largest fitted run)", result.forecasts[shown].rename(columns={"panel": "group"}))
    return result


def run(args: argparse.Namespace) -> int:
    """Read, forecast, print and save; returns the exit code (0 or 1), raises on unusable input."""
    for option, path in (("figure", args.figure), ("forecasts", args.output), ("backtest", args.backtest_output)):
        if path and not path.parent.is_dir():
            raise CommandLineError(f"Cannot save the {option} to {path}: folder {path.parent} does not exist.")
    if args.backtest_output and args.backtest_output.suffix.lower() != ".csv":
        raise CommandLineError(f"--backtest-output {args.backtest_output}: give a .csv file name.")
    if args.law == "auto" and (args.figure or args.aggregate or args.interval):
        raise CommandLineError("--law auto takes none of --figure, --aggregate, --interval.")
    keep = [*args.group, *([args.loss_column] if args.loss_column else [])]
    frame = read_runs(args.runs, benchmarks=args.benchmark, where=dict(args.where or []), metric=args.metric,
                      keep_columns=keep)
    largest = frame["flops"].max()
    if not args.target_flops and largest > np.finfo(float).max / 10:
        raise CommandLineError(f"The default target, 10 x the largest run ({largest:.3g} FLOPs), overflows the largest "
                               "float: give --target-flops.")
    if args.cut is not None and not (frame["flops"] <= args.cut).any():
        raise CommandLineError(f"--cut {args.cut:.3g} leaves no run to fit: every run has C > cut (the smallest has "
                               f"{frame['flops'].min():.3g} FLOPs).")
    if args.cut is not None and not (frame["flops"] > args.cut).any():
        raise CommandLineError(f"--cut {args.cut:.3g} holds out no run: every run has C <= cut.")
    print(f"{args.runs}: {len(frame)} rows, {frame['benchmark'].nunique()} benchmarks, "
          f"compute {frame['flops'].min():.3g} to {largest:.3g} FLOPs ({frame.attrs['compute_source']}).")
    aside = frame.attrs["set_aside"]
    if aside:
        print(f"Set aside {sum(aside.values())} rows for their metric: "
              + "; ".join(f"{reason} ({count})" for reason, count in aside.items()) + ".")
    if args.law == "auto":
        auto = _run_auto(args, frame)
        _save_outputs(args, auto, auto.backtest)
        if auto.n_forecast == 0:
            print("error: nothing could be forecast: every group is unpredictable (reasons above).", file=sys.stderr)
            return 1
        return 0
    result = forecast_runs(
        frame, law=args.law, target_flops=args.target_flops, cut=args.cut, level=args.level,
        interval=args.interval, noise=args.noise, n_resamples=args.resamples, seed=args.seed,
        group_by=args.group, benchmarks=args.benchmark if args.aggregate else None, loss_column=args.loss_column,
        aggregate=args.aggregate, grid_points=60 if args.figure else 0,
        progress=sys.stderr.isatty(),  # a bar on a terminal only: a pipe or log gets the messages alone
    )
    near = result.laws[result.laws["n_near_chance"] > 0]
    if len(near):
        print("Not fitted, at or near chance (within 2 binomial standard errors where n_items is known): "
              + ", ".join(f"{panel} ({count})" for panel, count in zip(near["panel"], near["n_near_chance"])) + ".")
    print(f"Law: {args.law} ({forecast_laws()[args.law]}); {args.level:.0%} prediction intervals calibrated for "
          "extrapolation (scalelib.evaluation.intervals).")
    if len(result.backtest):
        columns = [name for name in ("panel", "n_train", "n_held_out", "mean_abs_error", "max_abs_error", "bias",
                                     "coverage", "mean_width_points", "status", "reason", "remark")
                   if name in result.backtest.columns]
        backtest = result.backtest[columns].rename(columns={"panel": "group", "mean_width_points": "mean_width"})
        _print_table("Backtest: fitted on the runs at or below the cut, scored on every run above it "
                     "(errors and widths in accuracy points; coverage = share of held-out runs inside their "
                     "interval)", backtest.loc[:, (backtest != "").any()])
    table = result.forecasts
    shown = [name for name in ("panel", "tpr", "k", "flops", "predicted", "lower", "upper", "n_runs", "reason")
             if name in table.columns]
    _print_table(f"Forecast at the target compute, fitted on all runs (accuracy, {args.level:.0%} interval)",
                 table[shown].rename(columns={"panel": "group"}))
    if len(result.optimal):
        _print_table("Compute-optimal tokens per parameter of Eq. 4 at each target", result.optimal)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _save_outputs(args, result, result.backtest_rows)
    if result.n_forecast == 0:
        reasons = "; ".join(f"{panel}: {reason}" for panel, reason in zip(table["panel"], table["reason"]))
        print(f"error: nothing could be forecast. {reasons}", file=sys.stderr)
        return 1
    if args.figure:
        from matplotlib import pyplot as plt  # imported only when a figure is asked for

        from scalelib.plots.forecasts import plot_runs_forecast

        figure = plot_runs_forecast(result, level=args.level)
        file_format = args.figure.suffix.lstrip(".").lower()
        try:
            with plt.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
                figure.savefig(args.figure, metadata=REPRODUCIBLE_METADATA.get(file_format))
        except (OSError, ValueError) as error:
            raise CommandLineError(f"Cannot save the figure to {args.figure}: {error}") from None
        finally:
            plt.close(figure)
        print(f"\nFigure saved to {args.figure}")
    return 0


def _save_outputs(
    args: argparse.Namespace, forecasts: RunsForecast | AutoRunsForecast, backtest_rows: pd.DataFrame
) -> None:
    """Write ``--output`` (the forecasts) and ``--backtest-output`` (one row per held-out run) if asked."""
    if args.output:
        write_forecasts(forecasts, args.output)
        print(f"\nForecasts saved to {args.output}")
    if args.backtest_output:
        write_backtest(backtest_rows, args.backtest_output)
        print(f"\nBacktest saved to {args.backtest_output}")
