"""The released pass@k values as a tidy frame, and tables of what Eq. 5 can use and how it covers.

* :func:`load_pass_at_k` -- the released pass@k values with a ``k`` column, broken
  evaluations and exact zeros excluded and returned with a reason;
* :func:`coverage_table` -- how many runs of each benchmark clear zero;
* :func:`coverage_by_run` -- how the interval misses of a backtest with intervals group
  by run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from scalelib.data.benchmark_info import BENCHMARKS, get_benchmark
from scalelib.data.released import load_results
from scalelib.data.pass_at_k_estimator import _k_column

__all__ = ["CODE_BENCHMARKS", "load_pass_at_k", "coverage_table", "coverage_by_run"]

CODE_BENCHMARKS: tuple[str, ...] = tuple(name for name, b in BENCHMARKS.items() if b.task_type == "code")
"""The benchmarks released with pass@k (HumanEval, MBPP, LBPP)."""


def _book_order(column: pd.Series) -> pd.Series:
    """Sort key putting a ``benchmark`` column in the book's order; other columns as they are."""
    order = {name: i for i, name in enumerate(BENCHMARKS)}
    return column.map(order) if column.name == "benchmark" else column



def load_pass_at_k(
    mixture: str | Iterable[str] | None = None,
    *,
    tpr: float | None = 20,
    benchmarks: Iterable[str] = CODE_BENCHMARKS,
    data_dir: Path | str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The released pass@k values, one row per (run, benchmark, k), split into fittable and excluded.

    Two kinds of rows cannot enter Eq. 5 and are excluded, in the open:

    * ``"broken evaluation"`` -- every k of a (run, benchmark) flagged ``broken_eval``
      by :mod:`scalelib.data.released` (pass@1 < 1 but pass@k = 1 for every k >= 2: values the
      unbiased estimator cannot produce, see :func:`estimator_bound_violations`);
    * ``"exact zero"`` -- pass@k = 0 (no sample of any problem passed):
      ``log(-log Q)`` is undefined there. Zeros are excluded row by row; by the
      estimator a run is at zero for every k or for none (see :func:`coverage_table`).

    Parameters
    ----------
    mixture
        ``"dclm"``, ``"c4"``, a list of them, or None for both.
    tpr
        Keep runs of this nominal tokens-per-parameter ratio; None keeps every ratio.
    benchmarks
        Code benchmarks to keep (default: all three).
    data_dir
        Folder with the released files (default: the book's ``data/``).

    Returns
    -------
    kept, excluded : pandas.DataFrame
        Columns ``mixture, run, params, tokens, tpr, flops, benchmark, metric, k,
        value, chance, n_items``, sorted by mixture, benchmark, compute and k;
        ``excluded`` has the same columns plus ``reason``.
    """
    names = [get_benchmark(name).name for name in benchmarks]
    not_code = [name for name in names if name not in CODE_BENCHMARKS]
    if not_code:
        raise ValueError(f"{not_code} release no pass@k; code benchmarks are {list(CODE_BENCHMARKS)}")
    results = load_results(mixture, data_dir=data_dir)
    rows = results[results["benchmark"].isin(names) & results["metric"].str.startswith("pass@")]
    if tpr is not None:
        available = sorted(rows["tpr"].unique())
        if tpr not in available:
            raise ValueError(f"no pass@k at tpr={tpr:g}; released ratios: {[f'{t:g}' for t in available]}")
        rows = rows[rows["tpr"] == tpr]
    rows = rows.assign(
        k=_k_column,
        chance=rows["benchmark"].map(lambda b: BENCHMARKS[b].chance),
        n_items=rows["benchmark"].map(lambda b: BENCHMARKS[b].n_items),
    )
    rows = rows.sort_values(["mixture", "benchmark", "flops", "k"], key=_book_order)
    reason = pd.Series(
        np.select([rows["broken_eval"], rows["value"] == 0], ["broken evaluation", "exact zero"], ""),
        index=rows.index,
    )
    columns = [
        "mixture", "run", "params", "tokens", "tpr", "flops", "benchmark", "metric", "k",
        "value", "chance", "n_items",
    ]
    kept = rows.loc[reason == "", columns].reset_index(drop=True)
    excluded = rows.loc[reason != "", columns].assign(reason=reason[reason != ""]).reset_index(drop=True)
    return kept, excluded


def coverage_table(kept: pd.DataFrame, excluded: pd.DataFrame) -> pd.DataFrame:
    """How many runs of each (mixture, tpr, benchmark) clear zero: the data Eq. 5 can use.

    By the estimator, pass@1 = mean(c / n) is above zero exactly when some sample of
    some problem passed, and then so is pass@k for every k: a run is at zero for all
    k or for none.

    Parameters
    ----------
    kept, excluded
        The two frames returned by :func:`load_pass_at_k`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(mixture, tpr, benchmark)`` in the book's order, with ``runs``
        (released with pass@k), ``broken_evaluations`` (runs excluded as broken),
        ``runs_above_zero`` (runs with kept rows) and the best kept ``pass@1`` and
        ``pass@<largest k>``.
    """
    keys = ["mixture", "tpr", "benchmark"]
    everything = pd.concat([kept, excluded], ignore_index=True)
    broken = excluded[excluded["reason"] == "broken evaluation"]
    largest_k = int(everything["k"].max())
    table = pd.DataFrame({
        "runs": everything.groupby(keys)["run"].nunique(),
        "broken_evaluations": broken.groupby(keys)["run"].nunique(),
        "runs_above_zero": kept.groupby(keys)["run"].nunique(),
    }).fillna(0).astype(int)
    for k in (1, largest_k):
        table[f"best_pass@{k}"] = kept[kept["k"] == k].groupby(keys)["value"].max()
    table = table.fillna({"best_pass@1": 0.0, f"best_pass@{largest_k}": 0.0})
    return table.sort_index(key=_book_order)



def coverage_by_run(result: pd.DataFrame) -> pd.DataFrame:
    """Whether a backtest's intervals miss whole runs or single values of k.

    The held-out pass@k values of one run come from the same samples, so whether they
    fall inside their intervals is strongly correlated across k: the number of
    independent checks of coverage is nearer the number of held-out runs than the
    number of held-out values. This table counts, per split and benchmark, the runs
    whose held-out values are all inside their interval, some of them, or none.

    Parameters
    ----------
    result
        Output of :func:`scalelib.evaluation.backtest.backtest_split` (or
        :func:`~scalelib.evaluation.backtest.backtest`) with an interval forecaster on pass@k
        rows, several concatenated if wished; columns ``split, benchmark, run, status, covered``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(split, benchmark)``, benchmarks in the book's order: ``held_out_runs``,
        ``covered_at_every_k``, ``covered_at_some_k``, ``covered_at_no_k`` and
        ``coverage`` (share of the held-out values covered, as
        :func:`scalelib.evaluation.intervals.summarise_intervals`).
    """
    fitted = result[result["status"] == "ok"].astype({"covered": bool})
    share_by_run = fitted.groupby(["split", "benchmark", "run"], sort=False)["covered"].mean()
    table = share_by_run.groupby(["split", "benchmark"], sort=False).agg(
        held_out_runs="size",
        covered_at_every_k=lambda share: int((share == 1).sum()),
        covered_at_some_k=lambda share: int(((share > 0) & (share < 1)).sum()),
        covered_at_no_k=lambda share: int((share == 0).sum()),
    )
    table["coverage"] = fitted.groupby(["split", "benchmark"], sort=False)["covered"].mean()
    return table.sort_index(key=_book_order)
