"""The checks every entry point of ``scalelib`` and its command line share.

A law fitted to bad input rarely crashes where the input went wrong: infinite compute
dies as ``LinAlgError: SVD did not converge``, a chance level given as text as a bare
``TypeError``, runs that all share one compute value return a plausible exponent. Each
public function therefore checks its input here first and raises a
:class:`ScalingDataError` (a ``ValueError``) whose message names the input and the
offending points. The command line (:mod:`scalelib.cli`) reads its file with its own
line-by-line checks and then goes through the same functions, so the library refuses
what the command line refuses.

* numbers: :func:`as_numbers` (numbers, not text), :func:`check_compute` (finite and
  positive), :func:`check_distinct_compute` (a law of compute needs two compute values),
  :func:`check_chance` (a real number in [0, 1)), :func:`check_n_items` (item counts);
* frames: :func:`check_numeric_columns` and :func:`check_unique_index`;
* options: :data:`MIN_BOOTSTRAP_RESAMPLES` and :func:`check_resamples`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = [
    "MIN_BOOTSTRAP_RESAMPLES",
    "ScalingDataError",
    "describe_points",
    "as_numbers",
    "check_compute",
    "check_distinct_compute",
    "check_chance",
    "check_n_items",
    "check_numeric_columns",
    "check_unique_index",
    "check_resamples",
]

MIN_BOOTSTRAP_RESAMPLES = 20
"""Fewest resamples a bootstrap interval is formed from. A central 90% interval is read
off the 5% and 95% quantiles of the resamples; with 20 they still fall between the two
most extreme resamples on each side, with fewer they rest on the single most extreme one
(with one resample the "interval" is one resampled curve, which need not contain the
point forecast). The book uses 30 to 1000."""

SHOWN_POINTS = 5
"""At most this many offending values are quoted in a message."""


class ScalingDataError(ValueError):
    """Data that a scaling law cannot be fitted to; the message says which points and why."""


def describe_points(mask: np.ndarray, labels: Sequence[str] | None) -> str:
    """Name the points selected by ``mask``: by label (e.g. run id) if given, else by index."""
    positions = np.flatnonzero(mask)
    if labels is None:
        return "index " + ", ".join(str(position) for position in positions)
    return "run " + ", ".join(repr(labels[position]) for position in positions)


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA


def _is_number(value: object) -> bool:
    """A real number (Python or NumPy), not a boolean; missing values count as numbers (NaN)."""
    return _is_missing(value) or (
        isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    )


def as_numbers(values: ArrayLike, name: str, labels: Sequence[str] | None = None) -> np.ndarray:
    """``values`` as a float array of the same shape; refuses text, booleans and other non-numbers.

    Missing values (``None``, ``pandas.NA``) become NaN, for the caller to refuse or keep.

    Raises
    ------
    ScalingDataError
        Naming ``name``, the offending points (by ``labels`` if given, else by index)
        and the first offending value.
    """
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        return array.astype(float)
    flat = array.ravel()
    if array.dtype.kind == "O":
        not_number = np.array([not _is_number(value) for value in flat], dtype=bool)
        if not not_number.any():
            return np.array(
                [np.nan if _is_missing(value) else float(value) for value in flat], dtype=float
            ).reshape(array.shape)
    else:
        not_number = np.ones(flat.shape, dtype=bool)
    if labels is not None and len(labels) != len(flat):
        labels = None  # the caller reports the mismatched lengths
    first = flat[np.flatnonzero(not_number)[0]]
    first = first.item() if isinstance(first, np.generic) else first  # 'abc', not np.str_('abc')
    raise ScalingDataError(
        f"{name} must hold numbers; got {first!r} ({type(first).__name__}) at "
        f"{describe_points(not_number, labels)}."
    )


def check_compute(
    compute: ArrayLike, *, name: str = "compute", labels: Sequence[str] | None = None, unit: str = " FLOPs"
) -> np.ndarray:
    """Compute (FLOPs) as a float array of the same shape: every value a finite number > 0.

    Also for other sizes that must be finite and positive (N, D), with ``name`` and
    ``unit`` (e.g. ``""``) for the message.

    Raises
    ------
    ScalingDataError
        For text, NaN, infinite or non-positive values, naming the points.
    """
    compute = as_numbers(compute, name, labels)
    if labels is not None and len(labels) != compute.size:
        labels = None
    for problem, bad, rule in (
        ("NaN in", np.isnan(compute), ""),
        ("Infinite", np.isinf(compute), f"; {name} must be finite"),
        ("Non-positive", compute <= 0, f"; {name} must be > 0{unit}"),
    ):
        if bad.any():
            raise ScalingDataError(f"{problem} {name} at {describe_points(bad, labels)}{rule}.")
    return compute


def check_distinct_compute(compute: ArrayLike) -> None:
    """Refuse runs that all share one compute value: a law of compute has no slope to fit there.

    Raises
    ------
    ScalingDataError
        If ``compute`` is empty or holds a single distinct value.
    """
    compute = np.asarray(compute, dtype=float).ravel()
    if len(compute) == 0:
        raise ScalingDataError("No runs given: a law of compute needs runs at two or more compute values.")
    if len(np.unique(compute)) < 2:
        raise ScalingDataError(
            f"Every run has the same compute ({compute[0]:.3g} FLOPs): a law of compute needs runs at "
            "two or more compute values."
        )


def check_chance(chance: object) -> float:
    """The chance level as a float: a real number (not text, None, a boolean or an array) in [0, 1).

    Raises
    ------
    ScalingDataError
        Saying what was given instead.
    """
    if not _is_number(chance) or _is_missing(chance):
        raise ScalingDataError(
            f"Chance level must be a real number in [0, 1), got {chance!r} ({type(chance).__name__})."
        )
    value = float(chance)
    if math.isnan(value):
        raise ScalingDataError("Chance level is NaN.")
    if not 0.0 <= value < 1.0:
        raise ScalingDataError(f"Chance level must lie in [0, 1), got {chance}.")
    return value


def check_n_items(n_items: ArrayLike, *, purpose: str) -> np.ndarray:
    """Item counts of a benchmark as floats: finite and >= 1 everywhere.

    ``purpose`` says what needs them, e.g. ``"noise='binomial'"``; it starts the message.

    Raises
    ------
    ScalingDataError
        For text, missing (NaN), infinite or non-positive counts.
    """
    counts = as_numbers(n_items, "n_items")
    bad = ~np.isfinite(counts) | (counts < 1)
    if bad.any():
        shown = ", ".join(f"{value:g}" for value in np.unique(counts[bad])[:SHOWN_POINTS])
        raise ScalingDataError(
            f"{purpose} needs the number of items of the benchmark (n_items >= 1), got {shown}: "
            "give an n_items column with the benchmark's item count."
        )
    return counts


def check_numeric_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse columns of ``frame`` that hold anything but numbers (text, booleans ...).

    A column of numbers stored as objects (e.g. after a ``pd.concat`` of mixed types) is
    accepted. Columns absent from the frame are left to the caller.

    Raises
    ------
    ScalingDataError
        Naming the column, its first offending value and row, and the fix.
    """
    for column in columns:
        if column not in frame.columns:
            continue
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            continue
        not_number = ~values.map(_is_number).to_numpy(dtype=bool)  # booleans are not numbers here
        if not_number.any():
            position = int(np.flatnonzero(not_number)[0])
            raise ScalingDataError(
                f"Column '{column}' must hold numbers, but has dtype {values.dtype} "
                f"(e.g. {values.iloc[position]!r} in row {values.index[position]!r}); convert it with "
                f"pandas.to_numeric(frame[{column!r}]) first."
            )


def check_unique_index(frame: pd.DataFrame) -> None:
    """Refuse a frame whose index repeats a label: its rows could not be matched to results.

    Raises
    ------
    ScalingDataError
        Naming the repeated labels and the fix.
    """
    repeated = frame.index[frame.index.duplicated()].unique()
    if len(repeated):
        shown = ", ".join(repr(label) for label in repeated[:SHOWN_POINTS])
        more = f" and {len(repeated) - SHOWN_POINTS} more" if len(repeated) > SHOWN_POINTS else ""
        raise ScalingDataError(
            f"The frame's index repeats label(s) {shown}{more} (as after pd.concat without "
            "ignore_index=True): rows cannot be told apart. Use frame.reset_index(drop=True) first."
        )


def check_resamples(n_resamples: object) -> int:
    """A number of bootstrap resamples for an interval: a whole number >= :data:`MIN_BOOTSTRAP_RESAMPLES`.

    Raises
    ------
    ValueError
        Saying the minimum and why.
    """
    if not isinstance(n_resamples, numbers.Integral) or isinstance(n_resamples, (bool, np.bool_)):
        raise ValueError(f"n_resamples must be a whole number, got {n_resamples!r}.")
    if n_resamples < MIN_BOOTSTRAP_RESAMPLES:
        raise ValueError(
            f"A bootstrap interval needs at least {MIN_BOOTSTRAP_RESAMPLES} resamples, got {n_resamples}: "
            "with fewer, its quantiles rest on the most extreme resample or less (see "
            "scalelib.data.validation.MIN_BOOTSTRAP_RESAMPLES)."
        )
    return int(n_resamples)
