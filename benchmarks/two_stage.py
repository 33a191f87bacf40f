"""Time the two-stage chapter's fits and backtests on the released data.

Prints, for the runs at tpr 20 of both mixtures:

* the time of one fit of each stage: the loss law (pure and with an irreducible term)
  on each mixture's own loss, and each loss-to-accuracy map on every headline benchmark
  (mean and maximum per fit, in ms);
* the logistic map's fit (a closed-form profile over ``(k, L0)``, then an lmfit polish)
  against the three-start fit it replaced (rebuilt here: :func:`logistic_three_starts`),
  on every benchmark and mixture, fitted to all runs and to the runs below each of the
  chapter's cuts, with the validation loss and with the benchmark's task loss: the
  worst relative difference of the residual sums of squares (new / old - 1), the number
  of run sets where the new one is higher by more than 1e-9 (relative), and the times;
* the wall time of the chapter's backtests (the compute cuts of chapter 3) for each
  method (the task-loss route included), with and without the oracle loss, and the
  number of (mixture, cut, benchmark) fits behind each.

Usage::

    python benchmarks/two_stage.py
"""

from __future__ import annotations

import time

import lmfit
import numpy as np
import pandas as pd
from scipy.special import expit

from scalelib.data import released as data
from scalelib.data.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.book.compute_cuts import BOOK_CUTS
from scalelib.laws.direct_law import direct_law_forecaster
from scalelib.laws.loss_law import fit_loss_law, loss_column, own_validation_set
from scalelib.laws.loss_to_accuracy import (
    LOGISTIC_K_BOUNDS,
    LOGISTIC_L0_MARGIN,
    fit_flp_m_map,
    fit_flp_map,
    fit_linear_map,
    fit_logistic_map,
    validate_map_inputs,
)
from scalelib.data.normalise import ScalingDataError, drop_at_or_below_chance
from scalelib.evaluation.task_loss import merge_task_loss, task_loss_forecaster
from scalelib.evaluation.two_stage import LOSS_COLUMNS, merge_losses, two_stage_forecasters
from scalelib.evaluation.method_comparison import backtest_methods


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


FORMER_LOGISTIC_STARTS = ((0.0, 2.0), (0.5, 10.0), (1.0, 10.0))
"""The former logistic fit's starts: (quantile of the fitted losses for L0, k in nats^-1)."""


def logistic_three_starts(loss: np.ndarray, accuracy: np.ndarray, chance: float) -> float:
    """The former logistic fit (lmfit ``leastsq``, numerical Jacobian, three starts); its sum of squares."""
    loss, accuracy = validate_map_inputs(loss, accuracy, chance=chance, n_parameters=3)

    def residual(parameters: lmfit.Parameters) -> np.ndarray:
        values = parameters.valuesdict()
        return chance + (values["ceiling"] - chance) * expit(-values["k"] * (loss - values["L0"])) - accuracy

    best = np.inf
    for L0_quantile, k_start in FORMER_LOGISTIC_STARTS:
        parameters = lmfit.Parameters()
        parameters.add("ceiling", value=(accuracy.max() + 1.0) / 2, min=(chance + accuracy.max()) / 2, max=1.0)
        parameters.add("k", value=k_start, min=LOGISTIC_K_BOUNDS[0], max=LOGISTIC_K_BOUNDS[1])
        parameters.add(
            "L0", value=np.quantile(loss, L0_quantile),
            min=loss.min() - LOGISTIC_L0_MARGIN, max=loss.max() + LOGISTIC_L0_MARGIN,
        )
        best = min(best, lmfit.minimize(residual, parameters, method="leastsq").chisqr)
    return best


def compare_logistic_fits(kept: pd.DataFrame) -> pd.DataFrame:
    """The new and the former logistic fit on every run set: sums of squares and milliseconds."""
    rows = []
    for (mixture, benchmark), frame in kept.groupby(["mixture", "benchmark"]):
        chance = float(frame["chance"].iloc[0])
        for cut in (np.inf, *BOOK_CUTS[mixture]):
            below = frame[frame["flops"] <= cut]
            for loss_name in ("own_loss", "task_loss"):
                rows_with_loss = below.dropna(subset=[loss_name])
                if len(rows_with_loss) < 4:
                    continue
                loss, value = rows_with_loss[loss_name].to_numpy(), rows_with_loss["value"].to_numpy()
                new, new_ms = _time(fit_logistic_map, loss, value, chance=chance)
                old, old_ms = _time(logistic_three_starts, loss, value, chance)
                rows.append({
                    "mixture": mixture, "benchmark": benchmark, "cut": cut, "loss": loss_name,
                    "new": new.lmfit_result.chisqr, "old": old, "new_ms": new_ms, "old_ms": old_ms,
                })
    return pd.DataFrame(rows)


def time_backtests(kept: pd.DataFrame) -> pd.DataFrame:
    """Wall time of the chapter's backtests per method, with and without the oracle loss.

    ``kept`` needs the task loss (:func:`scalelib.evaluation.task_loss.merge_task_loss`) for the
    task-loss route.
    """
    rows = []
    for oracle in (False, True):
        methods = {**two_stage_forecasters(oracle_loss=oracle), "task loss": task_loss_forecaster(oracle_loss=oracle)}
        if not oracle:
            methods = {"direct": direct_law_forecaster(), **methods}
        for label, fit in methods.items():
            result, ms = _time(backtest_methods, kept, {label: fit}, BOOK_CUTS)
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

    logistic = compare_logistic_fits(kept)
    worse = logistic["new"] > logistic["old"] * (1 + 1e-9)
    print(
        f"\nLogistic map, {len(logistic)} run sets: median {logistic['new_ms'].median():.1f} ms "
        f"(former three starts {logistic['old_ms'].median():.1f} ms, ratio "
        f"{logistic['old_ms'].median() / logistic['new_ms'].median():.1f}x); worst new/old - 1 = "
        f"{(logistic['new'] / logistic['old'] - 1).max():+.2e}, {int(worse.sum())} worse by > 1e-9, "
        f"best {(logistic['new'] / logistic['old'] - 1).min():+.2e}"
    )

    backtests = time_backtests(kept)
    print("\nChapter 3 backtests (both mixtures, two cuts each)")
    print(backtests.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"total: {backtests['seconds'].sum():.1f} s")


if __name__ == "__main__":
    main()
