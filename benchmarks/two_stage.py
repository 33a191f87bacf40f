"""Time the two-stage chapter's fits and backtests on the released data.

Prints, for the runs at tpr 20 of both mixtures:

* the time of one fit of each stage: the loss law (pure and with an irreducible term)
  on each mixture's own loss, and each loss-to-accuracy map on every headline benchmark
  (mean and maximum per fit, in ms);
* the wall time of the chapter's backtests (the compute cuts of chapter 3) for each
  method (the task-loss route included), with and without the oracle loss, and the
  number of (mixture, cut, benchmark) fits behind each.

Usage::

    python benchmarks/two_stage.py
"""

from __future__ import annotations

import time

import pandas as pd

from scalelib import data
from scalelib.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.direct_law import direct_law_forecaster
from scalelib.loss_law import fit_loss_law, loss_column, own_validation_set
from scalelib.loss_to_accuracy import fit_flp_m_map, fit_flp_map, fit_linear_map, fit_logistic_map
from scalelib.normalise import ScalingDataError, drop_at_or_below_chance
from scalelib.task_loss import merge_task_loss, task_loss_forecaster
from scalelib.two_stage import LOSS_COLUMNS, backtest_methods, merge_losses, two_stage_forecasters

COMPUTE_CUTS = {"dclm": (1e21, 1e22), "c4": (1e20, 1e21)}


def _time(function, *args, **kwargs) -> tuple[object, float]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, 1e3 * (time.perf_counter() - start)


def time_stage_fits(runs: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """Milliseconds per fit of each stage, over mixtures (stage 1) or benchmarks (stage 2)."""
    timings = []
    for mixture, rows in runs.groupby("mixture"):
        column = loss_column(own_validation_set(mixture))
        for irreducible in (False, True):
            _, ms = _time(fit_loss_law, rows["flops"], rows[column], irreducible=irreducible)
            timings.append({"fit": f"loss law, irreducible={irreducible}", "ms": ms})
    maps = {"linear": fit_linear_map, "logistic": fit_logistic_map, "FLP": fit_flp_map}
    for (_, _), rows in kept.groupby(["mixture", "benchmark"]):
        chance = float(rows["chance"].iloc[0])
        for label, fit_map in maps.items():
            try:
                _, ms = _time(fit_map, rows["own_loss"], rows["value"], chance=chance)
            except ScalingDataError:
                continue
            timings.append({"fit": f"map: {label}", "ms": ms})
        _, ms = _time(fit_flp_m_map, rows[list(LOSS_COLUMNS)].to_numpy(), rows["value"], chance=chance)
        timings.append({"fit": "map: FLP-M", "ms": ms})
    return pd.DataFrame(timings)


def time_backtests(kept: pd.DataFrame) -> pd.DataFrame:
    """Wall time of the chapter's backtests per method, with and without the oracle loss.

    ``kept`` needs the task loss (:func:`scalelib.task_loss.merge_task_loss`) for the
    task-loss route.
    """
    rows = []
    for oracle in (False, True):
        methods = {**two_stage_forecasters(oracle_loss=oracle), "task loss": task_loss_forecaster(oracle_loss=oracle)}
        if not oracle:
            methods = {"direct": direct_law_forecaster(), **methods}
        for label, fit in methods.items():
            result, ms = _time(backtest_methods, kept, {label: fit}, COMPUTE_CUTS)
            fits = result.groupby(["mixture", "split", "benchmark"]).ngroups
            rows.append({"method": label, "oracle loss": oracle, "fits": fits, "seconds": ms / 1e3})
    return pd.DataFrame(rows)


def main() -> None:
    runs = data.load_runs()
    runs20 = runs[runs["tpr"] == 20]
    accuracy = merge_task_loss(data.accuracy_frame(tpr=20, benchmarks=HEADLINE_BENCHMARKS), data.load_results())
    kept, _ = drop_at_or_below_chance(merge_losses(accuracy, runs))

    stage_fits = time_stage_fits(runs20, kept)
    print("One fit of each stage on all tpr-20 runs (ms per fit)")
    per_fit = stage_fits.groupby("fit", sort=False)["ms"].agg(["count", "mean", "max"])
    print(per_fit.to_string(float_format=lambda v: f"{v:.1f}"))

    backtests = time_backtests(kept)
    print("\nChapter 3 backtests (both mixtures, two cuts each)")
    print(backtests.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"total: {backtests['seconds'].sum():.1f} s")


if __name__ == "__main__":
    main()
