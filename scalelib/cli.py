"""Forecast benchmark scores from your own runs: ``python -m scalelib RUNS.csv``.

Reads a CSV of training runs and their benchmark scores, fits a law per benchmark,
backtests it (fit the runs at or below a compute cut, forecast the runs above, count how
many fall inside their interval), and prints the forecast with a prediction interval at
the target compute, optionally saving a figure::

    python -m scalelib data/example_runs.csv --target-flops 1e23 --cut 1e21 --figure forecast.png

Input: a CSV file with a header row and one row per (run, benchmark). Columns (names
exact, any order; other columns are ignored):

============  ========  =============================================================
column        needed    meaning
============  ========  =============================================================
benchmark     yes       benchmark name (text); one law is fitted per benchmark
accuracy      yes       raw score of the run on the benchmark, a fraction in [0, 1]
flops         one of    training compute C in FLOPs ...
params        the       ... or the parameter count N with ``tokens`` (training tokens
tokens        three     D): C = 6 N D ... or N with ``tpr`` (tokens per parameter,
tpr           ways      D = tpr N): C = 6 tpr N^2. ``flops`` wins if several are given
run           no        run id, to name runs in messages (default: the file line)
chance        no        accuracy of random guessing, in [0, 1) (default: the released
                        benchmark's, see ``scalelib.benchmark_info``; required for others)
n_items       no        number of items of the benchmark (default: the released
                        benchmark's); used by ``--noise binomial``
============  ========  =============================================================

Rows at or below chance cannot be fitted (``-log Q`` is undefined there); they are
dropped, and the drop is reported. Every malformed file (missing column, wrong types,
accuracy outside [0, 1], compute that overflows, identical rows without a ``run`` column,
too few runs, a single compute value, ...) and every option that cannot give a meaningful
answer (``--noise binomial`` without item counts, fewer than
:data:`~scalelib.validation.MIN_BOOTSTRAP_RESAMPLES` resamples, a ``--cut`` with no run on
one side) stops the program with a one-line message and exit code 2.

Each target is placed relative to the fitted runs of its benchmark: below, inside or beyond
their compute range, and by how many e-folds (``--output`` writes this with the
forecasts). A target below the fitted runs, or farther beyond them than the drift
calibration reaches (:data:`CALIBRATED_REACH`), is warned about on stderr.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scalelib.backtest import forecast_rows
from scalelib.benchmark_info import BENCHMARKS
from scalelib.intervals import (
    LEVEL,
    N_RESAMPLES,
    ROLLING_ORIGIN_FRACTIONS,
    IntervalFitter,
    backtest_intervals,
    extrapolation_efolds,
    law_interval_fitter,
    range_position,
    summarise_intervals,
)
from scalelib.normalise import ScalingDataError, drop_at_or_below_chance
from scalelib.validation import MIN_BOOTSTRAP_RESAMPLES, check_distinct_compute

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "RunsFileError", "CommandLineError", "read_runs", "check_fittable", "forecast_table", "locate_targets",
    "plot_forecast", "main",
]

REQUIRED_COLUMNS = ("benchmark", "accuracy")
COMPUTE_COLUMNS = (("flops",), ("params", "tokens"), ("params", "tpr"))
"""The ways to give compute, in order of preference."""
OPTIONAL_COLUMNS = ("run", "chance", "n_items")

CLI_LAWS = {"direct": "Eq. 2, -log Q = A C^-alpha", "saturating": "Eq. 6, -log Q = A C^-alpha + E",
            "bnsl": "Eq. 1, broken power law (BNSL)"}
"""Laws of compute offered on the command line."""

MIN_RUNS = {"direct": 3, "saturating": 4, "bnsl": 7}
"""Runs above chance needed per benchmark: the law's parameters plus one, for an interval."""

SHOWN_LINES = 5
"""At most this many offending lines are named in an error message."""

CALIBRATED_REACH = max(ROLLING_ORIGIN_FRACTIONS)
"""How far beyond the fitted runs the drift calibration reaches, as a share of their
log-compute range: its inner backtests extrapolate at most this far
(:func:`scalelib.intervals.estimate_drift_rate`). Targets farther out are warned about."""

REPRODUCIBLE_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "ps": {"CreationDate": None},
                         "eps": {"CreationDate": None}}
"""Figure metadata by format: no creation date, so that a figure is byte-identical across runs
(with the fixed ``svg.hashsalt`` of :data:`SVG_HASH_SALT` for SVG element ids)."""

SVG_HASH_SALT = "scalelib"
"""matplotlib's ``svg.hashsalt`` while saving: SVG element ids derived from it, not drawn at random."""


class RunsFileError(ValueError):
    """A runs file that cannot be read as documented; the message says which lines and why."""


class CommandLineError(ValueError):
    """Arguments of ``python -m scalelib`` that cannot be used; the message says which and why."""


def _name_lines(lines: pd.Series, values: pd.Series | None = None) -> str:
    """``line 3 ('abc'), line 7 ('') and 4 more`` for the first offending lines."""
    def shown_value(value: object) -> str:
        return repr(value) if isinstance(value, str) else f"{value:g}"

    shown = [
        f"line {line}" + ("" if values is None else f" ({shown_value(values.loc[index])})")
        for index, line in lines.iloc[:SHOWN_LINES].items()
    ]
    more = len(lines) - SHOWN_LINES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _read_table(path: Path) -> pd.DataFrame:
    """The file as text cells indexed by their line in the file, header names stripped.

    Read with the csv module rather than pandas, which guesses types and silently turns a
    row with one field too many into an index.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            rows = [(reader.line_num, row) for row in reader if row]
    except FileNotFoundError:
        raise RunsFileError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise RunsFileError(f"{path} is a directory, not a CSV file.") from None
    except PermissionError:
        raise RunsFileError(f"{path}: permission denied.") from None
    except UnicodeDecodeError:
        raise RunsFileError(f"{path} is not a UTF-8 text file.") from None
    except csv.Error as error:
        raise RunsFileError(f"{path} is not a well-formed CSV file: {error}.") from None
    if not rows:
        raise RunsFileError(f"{path} is empty: expected a header row and one row per (run, benchmark).")
    (_, header), *body = rows
    header = [name.strip() for name in header]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise RunsFileError(f"Column(s) {duplicated} appear more than once in the header.")
    if not body:
        raise RunsFileError(f"{path} has a header but no data rows.")
    ragged = [(line, len(row)) for line, row in body if len(row) != len(header)]
    if ragged:
        shown = ", ".join(f"line {line} has {count}" for line, count in ragged[:SHOWN_LINES])
        more = f" and {len(ragged) - SHOWN_LINES} more lines" if len(ragged) > SHOWN_LINES else ""
        raise RunsFileError(
            f"{path} is not a well-formed CSV file: the header has {len(header)} fields, but {shown}{more}."
        )
    return pd.DataFrame([row for _, row in body], columns=header, index=[line for line, _ in body])


def _compute_columns(columns: Sequence[str]) -> tuple[str, ...]:
    for option in COMPUTE_COLUMNS:
        if all(name in columns for name in option):
            return option
    raise RunsFileError(
        "No compute given: add a 'flops' column (training FLOPs), or 'params' and 'tokens' "
        "(C = 6 N D), or 'params' and 'tpr' (tokens per parameter)."
    )


def _numbers(raw: pd.DataFrame, column: str, lines: pd.Series) -> pd.Series:
    """A column as floats; refuses empty cells, text and non-finite numbers, naming the lines."""
    cells = raw[column].str.strip()
    empty = cells == ""
    if empty.any():
        raise RunsFileError(f"Column '{column}' has empty cells at {_name_lines(lines[empty])}.")
    values = pd.to_numeric(cells, errors="coerce")
    not_numbers = values.isna() | ~np.isfinite(values)
    if not_numbers.any():
        raise RunsFileError(
            f"Column '{column}' must hold finite numbers; got {_name_lines(lines[not_numbers], cells)}."
        )
    return values.astype(float)


def _require(condition: pd.Series, message: str, lines: pd.Series, values: pd.Series) -> None:
    """Raise ``message`` naming the lines where ``condition`` fails."""
    if not condition.all():
        raise RunsFileError(f"{message}; got {_name_lines(lines[~condition], values)}.")


def _per_benchmark_default(benchmarks: pd.Series, field: str) -> pd.Series:
    """The released benchmarks' ``chance`` or ``n_items`` for each row (NaN if unknown)."""
    return benchmarks.map(lambda name: getattr(BENCHMARKS[name], field) if name in BENCHMARKS else np.nan)


def _refuse_repeated_lines(raw: pd.DataFrame, lines: pd.Series) -> None:
    """Without a ``run`` column, refuse lines identical to an earlier one: each would count as a run."""
    cells = raw.apply(lambda column: column.str.strip())
    repeated = cells.duplicated(keep="first")
    if repeated.any():
        first_line = lines.groupby(pd.util.hash_pandas_object(cells, index=False)).transform("first")
        pairs = [f"line {line} repeats line {first_line[line]}" for line in lines[repeated]]
        more = f" and {len(pairs) - SHOWN_LINES} more" if len(pairs) > SHOWN_LINES else ""
        raise RunsFileError(
            f"{', '.join(pairs[:SHOWN_LINES])}{more}, and there is no 'run' column to tell runs apart: if a run "
            "was entered twice, delete the copy; if these are distinct runs (e.g. seeds), add a 'run' column "
            "naming each."
        )


def read_runs(path: str | Path) -> pd.DataFrame:
    """Read and validate a runs file (columns documented in the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per file row with columns ``run``, ``benchmark``, ``value`` (the
        accuracy), ``flops``, ``chance``, ``n_items`` and ``line`` (its line in the
        file), plus ``params``, ``tokens`` and ``tpr`` where given. Attribute
        ``compute_source`` (in ``.attrs``) says how compute was obtained.

    Raises
    ------
    RunsFileError
        With a one-line message naming the column and lines at fault: besides malformed
        cells, compute ``6 N D`` that overflows, and (without a ``run`` column) lines
        repeating an earlier line exactly, which would count as separate runs.
    """
    path = Path(path)
    raw = _read_table(path)
    missing = [name for name in REQUIRED_COLUMNS if name not in raw.columns]
    if missing:
        raise RunsFileError(
            f"Missing column(s) {missing}; the file has {list(raw.columns)}. Needed: 'benchmark', "
            "'accuracy', and compute as 'flops', 'params'+'tokens' or 'params'+'tpr'."
        )
    compute_columns = _compute_columns(raw.columns)
    lines = pd.Series(raw.index, index=raw.index)
    frame = pd.DataFrame({"benchmark": raw["benchmark"].str.strip(), "line": lines})
    empty_names = frame["benchmark"] == ""
    if empty_names.any():
        raise RunsFileError(f"Column 'benchmark' has empty cells at {_name_lines(lines[empty_names])}.")
    numeric = [*compute_columns, *[name for name in ("chance", "n_items") if name in raw.columns]]
    for column in ["accuracy", *numeric]:
        frame[column] = _numbers(raw, column, lines)
    frame = frame.rename(columns={"accuracy": "value"})
    _require(
        frame["value"].between(0.0, 1.0), "Accuracy must be a fraction in [0, 1] (not a percentage)",
        lines, frame["value"],
    )
    _require(
        frame["value"] < 1.0,
        "Accuracy 1 cannot be fitted (Q = 1 makes log(-log Q) undefined); remove these rows",
        lines, frame["value"],
    )
    for column in compute_columns:
        _require(frame[column] > 0, f"Column '{column}' must be positive", lines, frame[column])
    if compute_columns == ("flops",):
        source = "flops column"
    elif compute_columns == ("params", "tokens"):
        frame["flops"] = 6.0 * frame["params"] * frame["tokens"]
        source = "C = 6 N D from params and tokens"
    else:
        frame["tokens"] = frame["tpr"] * frame["params"]
        frame["flops"] = 6.0 * frame["params"] * frame["tokens"]
        source = "C = 6 N D with D = tpr N, from params and tpr"
    _require(np.isfinite(frame["flops"]), f"Compute ({source}) overflows the largest float", lines, frame["flops"])

    if "chance" in frame.columns:
        _require(frame["chance"].between(0.0, 1.0, inclusive="left"), "Chance must lie in [0, 1)",
                 lines, frame["chance"])
    else:
        frame["chance"] = _per_benchmark_default(frame["benchmark"], "chance")
        unknown = sorted(frame.loc[frame["chance"].isna(), "benchmark"].unique())
        if unknown:
            raise RunsFileError(
                f"No 'chance' column, and benchmark(s) {unknown} are not released benchmarks whose chance "
                "level is known: add a 'chance' column (0.25 for four-way multiple choice, 0 for open answers)."
            )
    levels = frame.groupby("benchmark")["chance"].nunique()
    if (levels > 1).any():
        raise RunsFileError(
            f"Benchmark(s) {sorted(levels[levels > 1].index)} have several chance levels; give one per benchmark."
        )
    if "n_items" in frame.columns:
        whole = (frame["n_items"] >= 1) & (frame["n_items"] == np.round(frame["n_items"]))
        _require(whole, "Column 'n_items' must hold whole numbers >= 1", lines, frame["n_items"])
    else:
        frame["n_items"] = _per_benchmark_default(frame["benchmark"], "n_items")

    if "run" in raw.columns:
        frame["run"] = raw["run"].str.strip()
        empty_runs = frame["run"] == ""
        if empty_runs.any():
            raise RunsFileError(f"Column 'run' has empty cells at {_name_lines(lines[empty_runs])}.")
        repeated = frame.duplicated(["benchmark", "run"], keep="first")
        if repeated.any():
            raise RunsFileError(
                f"Run(s) appear twice for the same benchmark at {_name_lines(lines[repeated], frame['run'])}."
            )
    else:
        _refuse_repeated_lines(raw, lines)
        frame["run"] = "line " + lines.astype(str)
    columns = ["run", "benchmark", "value", "flops", "chance", "n_items", "line",
               *[name for name in ("params", "tokens", "tpr") if name in frame.columns]]
    frame = frame[columns]
    frame.attrs["compute_source"] = source
    return frame


def check_fittable(frame: pd.DataFrame, law: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop the rows at or below chance and check every benchmark can be fitted by ``law``.

    Returns
    -------
    kept, dropped : pandas.DataFrame

    Raises
    ------
    CommandLineError
        For an unknown law.
    RunsFileError
        For a benchmark with runs at a single compute value, or with fewer runs above
        chance than :data:`MIN_RUNS` of the law.
    """
    if law not in CLI_LAWS:
        raise CommandLineError(f"Unknown law {law!r}; choose one of {list(CLI_LAWS)}.")
    kept, dropped = drop_at_or_below_chance(frame)
    for benchmark, rows in frame.groupby("benchmark", sort=True):
        try:
            check_distinct_compute(rows["flops"])
        except ScalingDataError as error:
            raise RunsFileError(f"Benchmark '{benchmark}': {error}") from None
        n_runs = int((kept["benchmark"] == benchmark).sum())
        if n_runs < MIN_RUNS[law]:
            raise RunsFileError(
                f"Benchmark '{benchmark}': {n_runs} run(s) above chance, but the {law} law needs at least "
                f"{MIN_RUNS[law]} for a forecast with an interval."
            )
    return kept, dropped


def _interval_fitter(args: argparse.Namespace) -> IntervalFitter:
    if args.interval == "analytic" and args.law != "direct":
        raise CommandLineError(f"The analytic interval exists for the direct law only; drop --interval for {args.law}.")
    interval = args.interval or ("analytic" if args.law == "direct" else "bootstrap")
    if args.noise == "binomial" and interval == "analytic":
        raise CommandLineError("--noise binomial needs the bootstrap interval (the analytic one uses the residuals): "
                               "add --interval bootstrap.")
    return law_interval_fitter(
        args.law, interval=interval, noise=args.noise, n_resamples=args.resamples, seed=args.seed,
        progress=True,
    )


def forecast_table(
    kept: pd.DataFrame, fit: IntervalFitter, target_flops: Sequence[float], *, level: float,
    grid_points: int = 0,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Fit every benchmark on all its runs; forecast with intervals at ``target_flops``.

    Returns
    -------
    table, curves
        ``table``: one row per (benchmark, target) with ``flops``, ``predicted``,
        ``lower``, ``upper`` (accuracy) and ``n_runs`` (:func:`locate_targets` says where
        each stands). ``curves``: per benchmark, the same columns on a grid of
        ``grid_points`` compute values spanning the runs and the targets (empty without
        a grid), for a figure.
    """
    targets = np.asarray(target_flops, dtype=float)
    tables, curves = [], {}
    for benchmark, rows in kept.groupby("benchmark", sort=True):
        grid = np.logspace(np.log10(min(targets.min(), rows["flops"].min())),
                           np.log10(max(targets.max(), rows["flops"].max())), grid_points)
        interval = fit(rows.copy())(forecast_rows(rows, np.concatenate([targets, grid])), level)
        table = interval.to_frame(np.concatenate([targets, grid]))
        tables.append(table.iloc[: len(targets)].assign(benchmark=benchmark, n_runs=len(rows)))
        curves[benchmark] = table.iloc[len(targets):]
    table = pd.concat(tables, ignore_index=True)
    return table[["benchmark", "flops", "predicted", "lower", "upper", "n_runs"]], curves


def locate_targets(kept: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Where each forecast of :func:`forecast_table` stands relative to its benchmark's fitted runs.

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``position`` (``"below"``, ``"inside"`` or ``"beyond"`` the compute
        range of the benchmark's runs in ``kept``), ``efolds_outside`` (the distance from
        that range in e-folds of compute, 0 inside) and ``warning``: empty, or why the
        forecast says little, for a target below the fitted runs (the law was fitted
        above it) or beyond them by more than :data:`CALIBRATED_REACH` of their
        log-compute range (farther than the drift calibration reaches).
    """
    located = []
    for benchmark, rows in table.groupby("benchmark", sort=False):
        fitted = kept.loc[kept["benchmark"] == benchmark, "flops"]
        efolds = extrapolation_efolds(rows["flops"], fitted)
        reach = CALIBRATED_REACH * np.log(fitted.max() / fitted.min())
        warnings = [
            f"{benchmark}: target {flops:.3g} FLOPs is {-distance:.1f} e-folds below the smallest fitted run "
            f"({fitted.min():.3g} FLOPs); the law was fitted above it, and its interval only widens with the "
            "drift calibrated beyond the runs" if distance < 0
            else f"{benchmark}: target {flops:.3g} FLOPs is {distance:.1f} e-folds beyond the largest fitted run "
            f"({fitted.max():.3g} FLOPs), farther than the drift calibration reaches ({reach:.1f} e-folds)"
            if distance > reach else ""
            for flops, distance in zip(rows["flops"], efolds)
        ]
        located.append(rows.assign(
            position=range_position(efolds),
            efolds_outside=np.abs(efolds), warning=warnings,
        ))
    return pd.concat(located).loc[table.index]


def plot_forecast(
    kept: pd.DataFrame, dropped: pd.DataFrame, table: pd.DataFrame, curves: dict[str, pd.DataFrame], *,
    law: str, level: float,
) -> Figure:
    """One panel per benchmark: the runs, the fitted law, its shaded interval and the forecasts."""
    # matplotlib is imported only for a figure
    from scalelib.style import label_outer_axes, shade_interval, shared_legend, small_multiples, use_book_style

    use_book_style()
    names = list(curves)
    n_columns = min(4, len(names))
    figure, axes = small_multiples(len(names), n_columns=n_columns)
    for name, ax in zip(names, axes):
        curve = curves[name]
        shade_interval(ax, curve["flops"], curve["lower"], curve["upper"], colour="C0", level=level,
                       label="prediction")
        ax.plot(curve["flops"], curve["predicted"], color="C0", lw=1.5, label=f"{law} law")
        rows = kept[kept["benchmark"] == name]
        ax.plot(rows["flops"], rows["value"], "o", color="0.25", label="runs")
        below = dropped[dropped["benchmark"] == name]
        if len(below):
            ax.plot(below["flops"], below["value"], "x", color="0.5", label="at or below chance (not fitted)")
        forecasts = table[table["benchmark"] == name]
        ax.errorbar(forecasts["flops"], forecasts["predicted"],
                    yerr=[forecasts["predicted"] - forecasts["lower"], forecasts["upper"] - forecasts["predicted"]],
                    fmt="D", color="C3", capsize=3, label="forecast")
        chance = rows["chance"].iloc[0]
        if chance > 0:
            ax.axhline(chance, ls="--", lw=1, color="0.5", label="chance")
        ax.set_xscale("log")
        ax.set_title(name, fontsize=9)
    label_outer_axes(axes, n_columns, xlabel="training compute C (FLOPs)", ylabel="accuracy")
    shared_legend(figure, axes, max_columns=3)
    figure.suptitle(f"Forecasts of the {law} law with {level:.0%} prediction intervals")
    return figure


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


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="python -m scalelib",
        description="Fit a scaling law per benchmark to your runs, backtest it, and forecast with intervals.",
        epilog="Input columns: benchmark, accuracy, and flops | params+tokens | params+tpr; optional run, "
               "chance, n_items. See the docstring of scalelib.cli for details.",
    )
    parser.add_argument("runs", type=Path, help="CSV file of runs, one row per (run, benchmark)")
    parser.add_argument("--law", default="direct", choices=list(CLI_LAWS), help="law to fit (default: %(default)s)")
    parser.add_argument("--target-flops", type=_positive_float, nargs="+", metavar="FLOPS",
                        help="compute of the forecasts (default: 10 x the largest run)")
    parser.add_argument("--cut", type=_positive_float, metavar="FLOPS",
                        help="backtest: fit runs with C <= cut, forecast the others (default: hold out the top "
                             "third of the log-compute range)")
    parser.add_argument("--level", type=_level, default=LEVEL, help="interval coverage (default: %(default)s)")
    parser.add_argument("--interval", choices=["analytic", "bootstrap"],
                        help="interval method (default: analytic for direct, bootstrap otherwise)")
    parser.add_argument("--noise", choices=["residuals", "binomial"], default="residuals",
                        help="a new run's noise: resampled residuals or binomial sqrt(p(1-p)/n_items) "
                             "(bootstrap only; default: %(default)s)")
    parser.add_argument("--resamples", type=_whole_number(MIN_BOOTSTRAP_RESAMPLES), default=N_RESAMPLES,
                        help=f"bootstrap resamples, at least {MIN_BOOTSTRAP_RESAMPLES} (default: %(default)s)")
    parser.add_argument("--seed", type=_whole_number(0), default=0, help="bootstrap seed (default: %(default)s)")
    parser.add_argument("--benchmark", nargs="+", metavar="NAME", help="only these benchmarks")
    parser.add_argument("--figure", type=Path, metavar="PATH", help="save a figure of the forecasts (png, pdf, svg)")
    parser.add_argument("--output", type=Path, metavar="PATH",
                        help="save the forecasts as CSV, with each target's position relative to the fitted runs "
                             "(below, inside, beyond; e-folds outside) and any warning")
    return parser


def _default_cut(kept: pd.DataFrame) -> float:
    """Hold out the top third of the log-compute range of the runs."""
    low, high = np.log10(kept["flops"].min()), np.log10(kept["flops"].max())
    return float(10 ** (high - (high - low) / 3))


ACCURACY_COLUMNS = ("predicted", "lower", "upper")
"""Printed with three decimals; compute with three significant digits; other numbers with two decimals."""


def _print_table(title: str, table: pd.DataFrame) -> None:
    formats = {
        column: (lambda value: f"{value:.3g}") if column == "flops"
        else (lambda value: f"{value:.3f}") if column in ACCURACY_COLUMNS
        else (lambda value: f"{value:.2f}")
        for column in table.columns if pd.api.types.is_float_dtype(table[column])
    }
    print(f"\n{title}")
    print(table.to_string(index=False, formatters=formats))


def run(args: argparse.Namespace) -> None:
    """Read, validate, backtest, forecast and print; raises on any problem."""
    fit = _interval_fitter(args)
    for option, path in (("figure", args.figure), ("forecasts", args.output)):
        if path and not path.parent.is_dir():
            raise CommandLineError(f"Cannot save the {option} to {path}: folder {path.parent} does not exist.")
    frame = read_runs(args.runs)
    if args.benchmark:
        unknown = sorted(set(args.benchmark) - set(frame["benchmark"]))
        if unknown:
            raise CommandLineError(f"--benchmark {unknown} not in the file, whose benchmarks are "
                                   f"{sorted(frame['benchmark'].unique())}.")
        frame = frame[frame["benchmark"].isin(args.benchmark)]
    kept, dropped = check_fittable(frame, args.law)
    if args.noise == "binomial":
        unknown = sorted(kept.loc[kept["n_items"].isna(), "benchmark"].unique())
        if unknown:
            raise CommandLineError(f"--noise binomial needs each benchmark's number of items, unknown for {unknown}: "
                                   "add an n_items column.")
    print(f"{args.runs}: {len(frame)} rows, {frame['benchmark'].nunique()} benchmarks, "
          f"compute {frame['flops'].min():.3g} to {frame['flops'].max():.3g} FLOPs ({frame.attrs['compute_source']}).")
    if len(dropped):
        counts = dropped.groupby("benchmark").size()
        print(f"Dropped {len(dropped)} rows at or below chance: "
              + ", ".join(f"{name} ({count})" for name, count in counts.items()) + ".")
    print(f"Law: {args.law} ({CLI_LAWS[args.law]}), {args.level:.0%} prediction intervals calibrated for "
          "extrapolation (scalelib.intervals).")

    cut = args.cut or _default_cut(kept)
    if not (kept["flops"] <= cut).any():
        raise CommandLineError(f"--cut {cut:.3g} leaves no run to fit: every run has C > cut (the smallest has "
                               f"{kept['flops'].min():.3g} FLOPs).")
    result = backtest_intervals(kept, fit, compute_cut=cut, level=args.level)
    if result.empty:
        raise CommandLineError(f"--cut {cut:.3g} holds out no run: every run has C <= cut.")
    summary = summarise_intervals(result)
    columns = ["benchmark", "n_train", "n_held_out", "mean_abs_error", "max_abs_error", "bias", "coverage",
               "mean_width_points", *(["reason"] if (summary["status"] != "ok").any() else [])]
    _print_table(f"Backtest: fitted on C <= {cut:.3g} FLOPs, forecast the runs above "
                 "(errors and widths in accuracy points; coverage = share of held-out runs inside their interval)",
                 summary[columns].rename(columns={"mean_width_points": "mean_width"}))

    largest = kept["flops"].max()
    if not args.target_flops and largest > np.finfo(float).max / 10:
        raise CommandLineError(f"The default target, 10 x the largest run ({largest:.3g} FLOPs), overflows the largest "
                               "float: give --target-flops.")
    targets = args.target_flops or [10.0 * largest]
    table, curves = forecast_table(kept, fit, targets, level=args.level, grid_points=60 if args.figure else 0)
    _print_table(f"Forecast at the target compute, fitted on all runs (accuracy, {args.level:.0%} interval)", table)
    located = locate_targets(kept, table)
    for warning in located.loc[located["warning"] != "", "warning"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.output:
        try:
            located.to_csv(args.output, index=False)
        except OSError as error:
            raise CommandLineError(f"Cannot save the forecasts to {args.output}: {error}") from None
        print(f"\nForecasts saved to {args.output}")
    if args.figure:
        from matplotlib import pyplot as plt  # imported only when a figure is asked for

        figure = plot_forecast(kept, dropped, table, curves, law=args.law, level=args.level)
        file_format = args.figure.suffix.lstrip(".").lower()
        try:
            with plt.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
                figure.savefig(args.figure, metadata=REPRODUCIBLE_METADATA.get(file_format))
        except (OSError, ValueError) as error:
            raise CommandLineError(f"Cannot save the figure to {args.figure}: {error}") from None
        finally:
            plt.close(figure)
        print(f"\nFigure saved to {args.figure}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m scalelib``: returns 0, or 2 after a one-line error on stderr."""
    parser = _parser()
    try:
        run(parser.parse_args(argv))
    except (RunsFileError, CommandLineError, ScalingDataError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    return 0
