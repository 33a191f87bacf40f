"""BNSL (Eq. 1): the global fit against the former 32-start continuation fit, fit by fit.

``scalelib.laws.bnsl.fit_bnsl`` searches two grids (amplitudes profiled over the exponents,
and the log-linear parameters solved over floors, breaks and sharpnesses), screens their
best minima with short ``least_squares`` runs and polishes the best. This script checks,
fit by fit, what the speed cost in objective. On every benchmark of both mixtures at
tpr 20, fitted to all runs above chance and to those at or below 1e21 FLOPs
(``fast_fits.SUBSETS``; with ``--all-cuts`` also to those at or below 1e20 and 1e22, the
backtests' other cuts), it runs side by side

* **new**: the library's fit;
* **multi-start**: the fit the library used before, rebuilt here from its own start grid
  (floor in (0, 0.5) of the smallest -log Q x slopes (c0, c0 + c1) in ((0, 0.5), (0.5, 0.1))
  x break at the (0.1, 0.35, 0.65, 0.9) quantiles of log compute x f1 in (0.1, 0.3), with
  log b fitted given the rest: 32 starts), each start solved by the Huber continuation of
  :func:`scalelib.data.normalise.fit_huber_from_starts`,

both on the same objective (Huber loss, delta = 1e-3, of the log residuals), bounds and
parametrisation. It prints the median and total times, their ratio, the worst relative
objective difference ``new / multi-start - 1`` and the number of fits where the new
objective exceeds the former by more than 1e-9 (relative), then lists those fits.

The paper-style search (``fit_laws.bnsl_reference``: 100 seeded basinhopping runs of 100
L-BFGS-B hops each) is not run here: it takes minutes per fit, hours over this set. Run
``python benchmarks/fit_laws.py --all`` for it.

Last, it times a 200-resample bootstrap forecast with BNSL
(``law_interval_forecaster("bnsl", "bootstrap")``: the point fit, the drift calibration's
inner backtests, which call ``fit_bnsl``, and one warm-started polish per resample) on
each DCLM headline benchmark's runs below 1e21 FLOPs.

Usage::

    python benchmarks/fast_bnsl.py [--all-cuts]
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import pandas as pd
from fast_fits import OBJECTIVE_TOLERANCE, SUBSETS, bootstrap_times, summarise, tpr20_fit_sets
from fit_laws import timed

from scalelib.laws.bnsl import (
    BNSL_LAW,
    _terms,
    bnsl_bounds,
    bnsl_log_residuals,
    bnsl_log_residuals_jacobian,
    fit_bnsl,
)
from scalelib.data.normalise import (
    fit_huber_from_starts,
    huber_loss,
    log_compute_offset,
    neg_log_q,
)

EXTRA_CUTS = {"C <= 1e20": 1e20, "C <= 1e22": 1e22}
"""The backtests' other cuts, fitted with ``--all-cuts``."""

FORMER_FLOOR_FRACTIONS = (0.0, 0.5)
FORMER_SLOPES = ((0.0, 0.5), (0.5, 0.1))
FORMER_BREAK_QUANTILES = (0.1, 0.35, 0.65, 0.9)
FORMER_SHARPNESSES = (0.1, 0.3)


def former_starts(x: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
    """The former fit's 32 starts, ``log b_ref`` fitted given the rest."""
    starts = []
    for fraction, (c0, slope_after), quantile, f1 in itertools.product(
        FORMER_FLOOR_FRACTIONS, FORMER_SLOPES, FORMER_BREAK_QUANTILES, FORMER_SHARPNESSES
    ):
        floor = fraction * target.min()
        start = np.array([floor, 0.0, c0, slope_after, np.quantile(x, quantile), np.log(f1)])
        power_term, *_ = _terms(x, start)
        start[1] = np.mean(np.log(target - floor) - np.log(power_term))
        starts.append(start)
    return starts


def bnsl_multi_start(x: np.ndarray, log_target: np.ndarray) -> float:
    """The former Eq. 1 fit: 32 grid starts, each by Huber continuation; its objective."""
    best = fit_huber_from_starts(
        lambda p: bnsl_log_residuals(p, x, log_target),
        lambda p: bnsl_log_residuals_jacobian(p, x, log_target),
        former_starts(x, np.exp(log_target)), bounds=bnsl_bounds(x),
    )
    return huber_loss(best.fun)


def objective_comparisons(subsets: dict[str, float]) -> pd.DataFrame:
    """Every BNSL fit of the module docstring, new and former."""
    records = []
    for mixture, benchmark, subset, rows in tpr20_fit_sets(subsets, min_runs=6):
        chance = float(rows["chance"].iloc[0])
        x = log_compute_offset(rows["flops"].to_numpy())
        log_target = np.log(neg_log_q(rows["value"].to_numpy(), chance))
        new, new_seconds = timed(fit_bnsl, rows["flops"], rows["value"], chance=chance)
        old, old_seconds = timed(bnsl_multi_start, x, log_target)
        records.append({
            "law": "Eq. 1 BNSL", "mixture": mixture, "benchmark": benchmark, "runs": subset, "n": len(rows),
            "new": new.objective, "multi-start": old, "new_s": new_seconds, "multi-start_s": old_seconds,
        })
        print(f"  {mixture:4s} {benchmark:40s} {subset:10s} n={len(rows):2d} new/old - 1 = {new.objective / old - 1:+.1e}"
              f"  {1e3 * new_seconds:6.0f} ms vs {1e3 * old_seconds:6.0f} ms", flush=True)
    return pd.DataFrame(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all-cuts", action="store_true", help="also fit the runs at or below 1e20 and 1e22 FLOPs")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    comparisons = objective_comparisons({**SUBSETS, **EXTRA_CUTS} if args.all_cuts else SUBSETS)
    print("\nObjective and time, new BNSL fit against the former multi-start fit")
    print(summarise(comparisons, references=("multi-start",)).to_string(
        index=False, float_format=lambda v: f"{v:.3g}"))
    relative = comparisons["new"] / comparisons["multi-start"] - 1
    worse = comparisons.assign(relative=relative)[relative > OBJECTIVE_TOLERANCE]
    print(f"\nFits where the new objective exceeds the former by more than {OBJECTIVE_TOLERANCE:g} (relative)")
    print(worse[["mixture", "benchmark", "runs", "n", "relative"]].to_string(index=False) if len(worse) else "  none")
    print("Lowest new/multi-start - 1 (the new fit is lower)")
    print(comparisons.assign(relative=relative).nsmallest(3, "relative")[
        ["mixture", "benchmark", "runs", "n", "relative"]].to_string(index=False))

    print("\n200-resample BNSL bootstrap forecast, DCLM runs below 1e21 FLOPs (seconds per benchmark, former and new)")
    boot = bootstrap_times((BNSL_LAW,))
    print(boot.groupby("law", sort=False)[["old", "new"]].agg(["median", "max"]).to_string(
        float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
