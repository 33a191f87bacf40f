"""Forecast benchmark scores from your own runs: ``python -m scalelib RUNS.csv``.

A thin wrapper around :func:`scalelib.your_runs.forecast_runs`: reads a CSV of training
runs and their scores (:func:`read_runs`), and for every group of runs (one mixture, one
ratio, one metric, one benchmark; never pooled) backtests a law (fit the runs at or below
a compute cut, score every run above it) and forecasts the target compute with a
prediction interval::

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
                         tasks (scalelib.benchmark_info.chance_level_table)
  n_items        no      benchmark size, for near-chance points and --noise binomial
  k              no      pass@k's k, for --law passk (Eq. 5)
  <loss>         no      a validation loss, for the two-stage laws (--loss-column NAME)

Filters (``--benchmark``, ``--where COLUMN=VALUES``, ``--metric``) are applied before
any cell is validated. A group that cannot be forecast is reported with its reason, and
the others are forecast. Exit codes: **0** at least one group was forecast (refused
groups are listed with their reasons); **1** the file was read but no group could be
forecast (every reason printed); **2** the file or the arguments are unusable (a
one-line ``error:`` on stderr, nothing else).

``--law auto`` forecasts with :mod:`scalelib.auto_forecast` (the laws weighted by
backtests inside the runs, a verdict ``forecast`` or ``unpredictable`` per group, with
its reason); ``--backtest-output PATH.csv`` writes one row per held-out (run,
benchmark) with the columns of :data:`scalelib.auto_runs.BACKTEST_COLUMNS`, for any law.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scalelib.auto_candidates import DEFAULT_CANDIDATES
from scalelib.auto_runs import (
    BACKTEST_COLUMNS,
    AutoRunsForecast,
    backtest_table,
    forecast_runs_auto,
)
from scalelib.intervals import LEVEL, N_RESAMPLES
from scalelib.laws import LAWS
from scalelib.validation import MIN_BOOTSTRAP_RESAMPLES, ScalingDataError
from scalelib.your_runs import (
    RunsForecast,
    fill_known_levels,
    forecast_laws,
    forecast_runs,
    plot_runs_forecast,
    select_rows,
)

__all__ = ["RunsFileError", "CommandLineError", "INPUT_FORMAT", "read_runs", "write_forecasts", "main"]

INPUT_FORMAT = __doc__.split("Input: ", 1)[1].split("\n\nFilters", 1)[0].replace("::\n", ":\n", 1)
"""The input format, as ``--help`` prints it (the docstring's literal-block marker ``::`` made ``:``)."""

ACCURACY_NAMES = ("accuracy", "value")
"""The score column may be called either (the file's name, the library's name)."""
COMPUTE_COLUMNS = (("flops",), ("params", "tokens"), ("params", "tpr"))
"""The ways to give compute, in order of preference."""

SHOWN_LINES = 5
"""At most this many offending lines are named in an error message."""

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


def _optional_numbers(raw: pd.DataFrame, column: str, lines: pd.Series) -> pd.Series:
    """A column that may have empty cells (NaN there, to be filled from the known tables)."""
    empty = raw[column].str.strip() == ""
    values = pd.Series(np.nan, index=raw.index)
    if (~empty).any():
        values[~empty] = _numbers(raw[~empty], column, lines[~empty])
    return values


def read_runs(
    path: str | Path,
    *,
    benchmarks: Sequence[str] | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    metric: str | None = None,
    keep_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Read and validate a runs file (:data:`INPUT_FORMAT`), after keeping the rows asked for.

    Parameters
    ----------
    path
        The CSV file.
    benchmarks, where, metric
        Filters of :func:`scalelib.your_runs.select_rows`, applied before any cell is
        validated, so rows you did not ask for cannot stop the program.
    keep_columns
        Further columns to keep (a ``--group`` column as text, a ``--loss-column`` as numbers).

    Returns
    -------
    pandas.DataFrame
        One row per kept file row with columns ``run``, ``benchmark``, ``value`` (the
        accuracy), ``flops``, ``chance`` and ``n_items`` (missing cells filled from
        :mod:`scalelib.benchmark_info`, NaN where unknown: such a benchmark is refused
        with its reason by :func:`~scalelib.your_runs.forecast_runs`), ``line`` (its
        line in the file), and where given ``params``, ``tokens``, ``tpr``, ``mixture``,
        ``metric``, ``k`` and ``keep_columns``. ``.attrs``: ``compute_source`` (how
        compute was obtained) and ``set_aside`` (``{reason: rows}`` dropped for their metric).

    Raises
    ------
    RunsFileError
        With a one-line message naming the column and lines at fault: besides malformed
        cells, compute ``6 N D`` that overflows, and (without a ``run`` column) lines
        repeating an earlier line exactly, which would count as separate runs.
    """
    path = Path(path)
    raw = _read_table(path)
    score_names = [name for name in ACCURACY_NAMES if name in raw.columns]
    missing = [name for name in ("benchmark",) if name not in raw.columns] + ([] if score_names else ["accuracy"])
    if missing:
        raise RunsFileError(
            f"Missing column(s) {missing}; the file has {list(raw.columns)}. Needed: 'benchmark', "
            "'accuracy' (or 'value'), and compute as 'flops', 'params'+'tokens' or 'params'+'tpr'."
        )
    if len(score_names) > 1:
        raise RunsFileError("Both 'accuracy' and 'value' columns given: keep one, the score.")
    absent = [name for name in keep_columns if name not in raw.columns]
    if absent:
        raise RunsFileError(f"Column(s) {absent} named by an option are not in the file ({list(raw.columns)}).")
    compute_columns = _compute_columns(raw.columns)
    raw = raw.assign(benchmark=raw["benchmark"].str.strip())
    try:
        raw, set_aside = select_rows(raw, benchmarks=benchmarks, where=where, metric=metric)
    except ScalingDataError as error:
        raise CommandLineError(str(error)) from None
    if raw.empty:
        raise RunsFileError(f"{path}: no row is left after the filters.")
    lines = pd.Series(raw.index, index=raw.index)
    frame = pd.DataFrame({"benchmark": raw["benchmark"], "line": lines})
    empty_names = frame["benchmark"] == ""
    if empty_names.any():
        raise RunsFileError(f"Column 'benchmark' has empty cells at {_name_lines(lines[empty_names])}.")
    text_columns = [name for name in ("mixture", "metric") if name in raw.columns]
    numeric = [*compute_columns, *[name for name in ("k",) if name in raw.columns]]
    for column in [score_names[0], *numeric]:
        frame[column] = _numbers(raw, column, lines)
    for column in ("chance", "n_items"):
        if column in raw.columns:
            frame[column] = _optional_numbers(raw, column, lines)
    for column in keep_columns:
        if column in ("mixture", "metric", "tpr", "k", *compute_columns):
            continue
        cells = raw[column].str.strip()
        as_numbers = pd.to_numeric(cells, errors="coerce")
        frame[column] = as_numbers if as_numbers.notna().all() else cells
    for column in text_columns:
        frame[column] = raw[column].str.strip()
    frame = frame.rename(columns={score_names[0]: "value"})
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
    if "tpr" in raw.columns and "tpr" not in frame.columns:
        frame["tpr"] = _numbers(raw, "tpr", lines)
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
        given = frame["chance"].notna()
        _require(frame.loc[given, "chance"].between(0.0, 1.0, inclusive="left"), "Chance must lie in [0, 1)",
                 lines[given], frame.loc[given, "chance"])
    frame = fill_known_levels(frame)
    levels = frame.groupby("benchmark")["chance"].nunique()
    if (levels > 1).any():
        raise RunsFileError(
            f"Benchmark(s) {sorted(levels[levels > 1].index)} have several chance levels; give one per benchmark."
        )
    known_items = frame["n_items"].notna()
    whole = (frame.loc[known_items, "n_items"] >= 1) & (frame.loc[known_items, "n_items"]
                                                        == np.round(frame.loc[known_items, "n_items"]))
    _require(whole, "Column 'n_items' must hold whole numbers >= 1", lines[known_items],
             frame.loc[known_items, "n_items"])

    identity = [name for name in ("mixture", "tpr", "metric", "k", *keep_columns) if name in frame.columns]
    if "run" in raw.columns:
        frame["run"] = raw["run"].str.strip()
        empty_runs = frame["run"] == ""
        if empty_runs.any():
            raise RunsFileError(f"Column 'run' has empty cells at {_name_lines(lines[empty_runs])}.")
        repeated = frame.duplicated(["benchmark", "run", *identity], keep="first")
        if repeated.any():
            raise RunsFileError(
                f"Run(s) appear twice for the same benchmark at {_name_lines(lines[repeated], frame['run'])}."
            )
    else:
        _refuse_repeated_lines(raw, lines)
        frame["run"] = "line " + lines.astype(str)
    columns = ["run", "benchmark", "value", "flops", "chance", "n_items", "line",
               *[name for name in ("params", "tokens", "tpr", "mixture", "metric", "k", *keep_columns)
                 if name in frame.columns]]
    frame = frame[list(dict.fromkeys(columns))]
    frame.attrs["compute_source"] = source
    frame.attrs["set_aside"] = {str(reason): int(count) for reason, count in set_aside.groupby("reason").size().items()}
    return frame


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


def _auto_laws() -> str:
    """The laws ``--law auto`` weighs, its default candidates: the registered ones by their title, then the others
    (two-stage, which needs a loss column): ``"Eq. 2, Eq. 6, Eq. 4 (and two-stage with a loss column)"``."""
    titles = [LAWS[candidate.name].title for candidate in DEFAULT_CANDIDATES if candidate.name in LAWS]
    others = [candidate.name for candidate in DEFAULT_CANDIDATES if candidate.name not in LAWS]
    return ", ".join(titles) + "".join(f" (and {name} with a loss column)" for name in others)


def _parser() -> argparse.ArgumentParser:
    """The arguments, the laws among them read from the registry (:data:`scalelib.laws.LAWS`) when called."""
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
                        "with a verdict forecast/unpredictable (scalelib.auto_forecast) (default: %(default)s)")
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
    """The ``--backtest-output`` CSV: exactly the columns of :data:`scalelib.auto_runs.BACKTEST_COLUMNS`."""
    try:
        backtest_table(rows).to_csv(path, index=False)
    except OSError as error:
        raise CommandLineError(f"Cannot save the backtest to {path}: {error}") from None


def _run_auto(args: argparse.Namespace, frame: pd.DataFrame) -> AutoRunsForecast:
    """``--law auto``: the evidence-weighted forecaster, its backtest and its verdicts, printed."""
    result = forecast_runs_auto(frame, target_flops=args.target_flops, cut=args.cut, level=args.level,
                                group_by=args.group, loss_column=args.loss_column)
    print(f"Law: auto (scalelib.auto_forecast): {_auto_laws()} weighted by backtests inside the runs; "
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
          "extrapolation (scalelib.intervals).")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m scalelib``: 0 something forecast, 1 nothing could be, 2 unusable input."""
    parser = _parser()
    try:
        return run(parser.parse_args(argv))
    except (RunsFileError, CommandLineError, ScalingDataError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
