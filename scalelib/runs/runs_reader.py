"""The runs file of ``python -m scalelib``, read and validated: :func:`read_runs`.

The file's format is :data:`scalelib.cli.INPUT_FORMAT` (``python -m scalelib --help``).
Every malformed cell, missing column or repeated run is refused with a one-line
:class:`RunsFileError` naming the column and the lines at fault; a filter that cannot
be applied raises :class:`CommandLineError`. Both names are importable from
:mod:`scalelib.cli` too, and so is :func:`read_runs`.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scalelib.runs.runs_file import fill_known_levels, select_rows
from scalelib.data.validation import ScalingDataError

__all__ = ["RunsFileError", "CommandLineError", "read_runs"]

ACCURACY_NAMES = ("accuracy", "value")
"""The score column may be called either (the file's name, the library's name)."""
COMPUTE_COLUMNS = (("flops",), ("params", "tokens"), ("params", "tpr"))
"""The ways to give compute, in order of preference."""

SHOWN_LINES = 5
"""At most this many offending lines are named in an error message."""


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
    """Read and validate a runs file (:data:`scalelib.cli.INPUT_FORMAT`), after keeping the rows asked for.

    Parameters
    ----------
    path
        The CSV file.
    benchmarks, where, metric
        Filters of :func:`scalelib.runs.your_runs.select_rows`, applied before any cell is
        validated, so rows you did not ask for cannot stop the program.
    keep_columns
        Further columns to keep (a ``--group`` column as text, a ``--loss-column`` as numbers).

    Returns
    -------
    pandas.DataFrame
        One row per kept file row with columns ``run``, ``benchmark``, ``value`` (the
        accuracy), ``flops``, ``chance`` and ``n_items`` (missing cells filled from
        :mod:`scalelib.data.benchmark_info`, NaN where unknown: such a benchmark is refused
        with its reason by :func:`~scalelib.runs.your_runs.forecast_runs`), ``line`` (its
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
