"""Fit one law to every benchmark of a tidy frame, and tabulate the parameters.

A chapter typically fits the same law to fifteen benchmarks and two mixtures. These
helpers do the grouping, pass each group's chance level and run ids to the law, and
refuse to drop a benchmark silently: a group the law refuses is reported with the
reason instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from scalelib.data.normalise import ScalingDataError

__all__ = ["fit_law_by_benchmark", "parameter_table"]


def fit_law_by_benchmark(
    frame: pd.DataFrame,
    fit_law: Callable[..., Any],
    *,
    compute_column: str = "flops",
    **fit_options: Any,
) -> tuple[dict[tuple[str, str], Any], pd.DataFrame]:
    """Fit ``fit_law`` to each (mixture, benchmark) group of ``frame``.

    Parameters
    ----------
    frame
        One row per (run, benchmark) with columns ``mixture``, ``benchmark``, ``run``,
        ``value`` (raw accuracy), ``chance`` and ``compute_column``.
    fit_law
        ``fit_law(compute, accuracy, *, chance, labels, **fit_options)``, for example
        :func:`scalelib.laws.direct_law.fit_direct_law`.

    Returns
    -------
    fits, refused
        ``fits`` maps ``(mixture, benchmark)`` to the law's result; ``refused`` has one
        row per group the law refused (a :class:`~scalelib.data.normalise.ScalingDataError`),
        with the message in ``reason``.
    """
    missing = [c for c in ("mixture", "benchmark", "run", "value", "chance", compute_column) if c not in frame]
    if missing:
        raise ValueError(f"frame lacks required column(s) {missing}")
    fits, refused = {}, []
    for (mixture, benchmark), rows in frame.groupby(["mixture", "benchmark"], sort=False):
        try:
            fits[(mixture, benchmark)] = fit_law(
                rows[compute_column].to_numpy(), rows["value"].to_numpy(),
                chance=float(rows["chance"].iloc[0]), labels=rows["run"].tolist(), **fit_options,
            )
        except ScalingDataError as error:
            refused.append({"mixture": mixture, "benchmark": benchmark, "reason": str(error)})
    return fits, pd.DataFrame(refused, columns=["mixture", "benchmark", "reason"])


def parameter_table(fits: dict[tuple[str, str], Any]) -> pd.DataFrame:
    """The scalar fields of each fit result (A, alpha, their errors, fit quality ...) as a frame.

    Array and object fields (covariance, optimiser results) are left out.
    """
    rows = []
    for (mixture, benchmark), fit in fits.items():
        scalars = {
            field.name: getattr(fit, field.name)
            for field in dataclasses.fields(fit)
            if isinstance(getattr(fit, field.name), (int, float, np.floating, np.integer, str))
        }
        rows.append({"mixture": mixture, "benchmark": benchmark, **scalars})
    return pd.DataFrame(rows).set_index(["mixture", "benchmark"])
