"""Time and loss of every law's fit on the released data, and the paper-style searches beside ours.

For every benchmark of each mixture (at one tokens-per-parameter ratio), after dropping
the runs at or below chance, this script fits

* Eq. 2, the direct power law, in closed form and with lmfit in accuracy space;
* Eq. 6, the saturating law, with ``scalelib.laws.saturating_law.fit_saturating_law``;
* Eq. 1, BNSL, with ``scalelib.laws.bnsl.fit_bnsl``,

and prints each fit's wall time, its Huber loss (delta = 1e-3, summed) of the log
residuals ``log(-log Q_fit) - log(-log Q)`` -- the objective of the two robust fits,
computed the same way for all four so they can be compared -- and its RMSE in
accuracy points.

It then runs the paper's own searches on the *same* objective, parametrisation and
bounds, so that only the search differs:

* Eq. 6 (every benchmark): L-BFGS from each of the paper's 5 x 6 x 5 grid of starts
  (alpha in linspace(0, 2, 5), log A at C = 1 in linspace(0, 25, 6), log E in
  linspace(-1, 1, 5)), keeping the best;
* Eq. 1 (``--reference-benchmarks``, or every benchmark with ``--all``):
  ``--starts`` random starts (default 100, seeded) each refined by
  ``scipy.optimize.basinhopping`` with ``--hops`` steps (default 100) of L-BFGS-B;
  the best optimum is then polished by one more L-BFGS-B at the paper's tolerances
  (gtol = ftol = 1e-15). The hops themselves use scipy's default tolerances: at the
  paper's, one start of 100 hops takes minutes here, hours per benchmark
  (``--paper-tolerances`` to run them anyway). Starts are drawn from the paper's
  sampling ranges (c0, c1, f1 in [0.1, 3], a in [0, 5]), with the break log-uniform
  within its bounds and log b at 1e21 FLOPs uniform within one unit of the data's
  log(-log Q) range (the paper's raw b has no meaning once C is centred).

Our loss counts as matching the reference when it is at most the reference's times
(1 + 1e-6). Reference times are single-core: the sum of the per-start times, whatever
``--workers`` is (parallel workers only shorten the wall time).

Usage::

    python benchmarks/fit_laws.py                     # both mixtures, tpr 20
    python benchmarks/fit_laws.py --all --workers 2   # BNSL reference on every benchmark
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, basinhopping, minimize

from scalelib.data import released as data
from scalelib.laws.bnsl import BNSL_LAW
from scalelib.laws.direct_law import DIRECT_LAW
from scalelib.data.normalise import (
    REFERENCE_COMPUTE,
    ScalingDataError,
    drop_at_or_below_chance,
    huber_loss,
    huber_loss_gradient,
    log_compute_offset,
    neg_log_q,
)
from scalelib.evaluation.intervals import transformed
from scalelib.laws.registry import LAWS as REGISTERED_LAWS
from scalelib.laws.registry import Law
from scalelib.laws.saturating_law import SATURATING_LAW

COMPUTE_LAWS = tuple(law for law in REGISTERED_LAWS.values() if law.columns == ("flops",))
"""The registered laws of compute alone (Eq. 2, Eq. 6, Eq. 1), fitted here per benchmark."""

LAWS: dict[str, Callable] = {
    **{f"{law.name}, closed form" if law.has_analytic_interval else law.name: law.fit for law in COMPUTE_LAWS},
    f"{DIRECT_LAW.name}, lmfit": partial(DIRECT_LAW.fit, method="accuracy_space"),
}
"""Fits timed, by label: each law of :data:`COMPUTE_LAWS`, and Eq. 2's lmfit fit in accuracy space too."""

MATCH_TOLERANCE = 1e-6
"""Relative slack within which our loss counts as equal to the reference's."""

PAPER_LBFGS_OPTIONS = {"ftol": 1e-15, "gtol": 1e-15}
"""The paper's L-BFGS-B tolerances."""

PAPER_BNSL_RANGES = {"a": (0.0, 5.0), "c0": (0.1, 3.0), "c1": (0.1, 3.0), "f1": (0.1, 3.0)}
"""The paper's sampling ranges for BNSL starts (a clipped to our bound a >= 0)."""


def huber_objective(
    law: Law, x: np.ndarray, log_target: np.ndarray
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """A robust law's objective and its gradient, for scipy's scalar minimisers."""

    def value_and_gradient(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        r = law.residuals(parameters, x, log_target)
        return huber_loss(r), huber_loss_gradient(r, law.jacobian(parameters, x, log_target))

    return value_and_gradient


def saturating_reference(x: np.ndarray, log_target: np.ndarray) -> float:
    """Best loss of L-BFGS-B from each point of the paper's 150-point grid (Eq. 6)."""
    objective = huber_objective(SATURATING_LAW, x, log_target)
    lower, upper = SATURATING_LAW.bounds(x)
    best = np.inf
    for alpha, log_A, log_E in itertools.product(
        np.linspace(0, 2, 5), np.linspace(0, 25, 6), np.linspace(-1, 1, 5)
    ):
        start = np.array([log_A - alpha * np.log(REFERENCE_COMPUTE), alpha, np.exp(log_E)])
        result = minimize(
            objective, np.clip(start, lower, upper), jac=True, method="L-BFGS-B",
            bounds=Bounds(lower, upper), options=PAPER_LBFGS_OPTIONS,
        )
        best = min(best, result.fun)
    return best


def bnsl_reference_start(x: np.ndarray, log_target: np.ndarray, seed: int) -> np.ndarray:
    """One random start for the BNSL reference, in the fitted parametrisation of scalelib.laws.bnsl."""
    rng = np.random.default_rng(seed)
    lower, upper = BNSL_LAW.bounds(x)
    c0 = rng.uniform(*PAPER_BNSL_RANGES["c0"])
    start = np.array([
        rng.uniform(*PAPER_BNSL_RANGES["a"]),
        rng.uniform(log_target.min() - 1, log_target.max() + 1),
        c0,
        c0 + rng.uniform(*PAPER_BNSL_RANGES["c1"]),
        rng.uniform(lower[4], upper[4]),
        np.log(rng.uniform(*PAPER_BNSL_RANGES["f1"])),
    ])
    return np.clip(start, lower, upper)


def bnsl_reference_run(
    x: np.ndarray, log_target: np.ndarray, n_hops: int, hop_options: dict, seed: int
) -> tuple[np.ndarray, float, float]:
    """One start of the BNSL reference: basinhopping with L-BFGS-B. Returns (x, loss, seconds)."""
    started = time.perf_counter()
    lower, upper = BNSL_LAW.bounds(x)
    result = basinhopping(
        huber_objective(BNSL_LAW, x, log_target),
        bnsl_reference_start(x, log_target, seed),
        niter=n_hops,
        minimizer_kwargs={
            "method": "L-BFGS-B", "jac": True, "bounds": Bounds(lower, upper), "options": hop_options,
        },
        seed=seed,
    )
    return result.x, result.fun, time.perf_counter() - started


def bnsl_reference(
    x: np.ndarray, log_target: np.ndarray, args: argparse.Namespace, pool: ProcessPoolExecutor
) -> tuple[float, float]:
    """Best loss of ``args.starts`` seeded basinhopping runs, polished; and the summed time (s).

    The best run's optimum is refined once more by L-BFGS-B at the paper's tolerances.
    """
    hop_options = PAPER_LBFGS_OPTIONS if args.paper_tolerances else {}
    runs = list(pool.map(partial(bnsl_reference_run, x, log_target, args.hops, hop_options), range(args.starts)))
    best_x, _, _ = min(runs, key=lambda run: run[1])
    lower, upper = BNSL_LAW.bounds(x)
    polished, polish_seconds = timed(
        minimize, huber_objective(BNSL_LAW, x, log_target),
        best_x, jac=True, method="L-BFGS-B", bounds=Bounds(lower, upper), options=PAPER_LBFGS_OPTIONS,
    )
    best_loss = min(min(loss for _, loss, _ in runs), polished.fun)
    return best_loss, sum(seconds for _, _, seconds in runs) + polish_seconds


def timed(function: Callable, *args: object, **kwargs: object) -> tuple[object, float]:
    """Call ``function`` and return its result and wall time in seconds."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def fit_every_law(kept: pd.DataFrame, chance: float) -> tuple[list[dict], dict]:
    """Fit each law to one benchmark's rows above chance.

    Returns one record per law (time, losses, or why it was skipped) and, by law name,
    the fitted result and its time in seconds.
    """
    compute, accuracy = kept["flops"].to_numpy(), kept["value"].to_numpy()
    records, fits = [], {}
    for law, fit_law in LAWS.items():
        record = {"law": law}
        try:
            result, seconds = timed(fit_law, compute, accuracy, chance=chance, labels=kept["run"].tolist())
        except ScalingDataError as error:
            record["status"] = f"skipped: {error}"
        else:
            fits[law] = (result, seconds)
            predicted = result.predict(compute)
            record.update(
                status="ok",
                time_ms=1e3 * seconds,
                # transformed() keeps a prediction that underflows to chance 1e-9 above it (finite residual)
                huber_loss=huber_loss(transformed(predicted, chance) - transformed(accuracy, chance)),
                rmse_points=100 * np.sqrt(np.mean((predicted - accuracy) ** 2)),
            )
        records.append(record)
    return records, fits


def compare_with_reference(
    kept: pd.DataFrame, chance: float, fits: dict, run_bnsl: bool,
    args: argparse.Namespace, pool: ProcessPoolExecutor,
) -> list[dict]:
    """Our saturating and BNSL losses beside the paper-style searches' on the same objective."""
    x = log_compute_offset(kept["flops"].to_numpy())
    log_target = np.log(neg_log_q(kept["value"].to_numpy(), chance))
    references = {}
    if SATURATING_LAW.name in fits:
        references[SATURATING_LAW.name] = timed(saturating_reference, x, log_target)
    if run_bnsl and BNSL_LAW.name in fits:
        references[BNSL_LAW.name] = bnsl_reference(x, log_target, args, pool)
    records = []
    for law, (reference_loss, reference_seconds) in references.items():
        ours, our_seconds = fits[law]
        records.append({
            "law": law,
            "our_loss": ours.objective,
            "reference_loss": reference_loss,
            "relative_difference": ours.objective / reference_loss - 1,
            "ours_matches_or_beats": ours.objective <= reference_loss * (1 + MATCH_TOLERANCE),
            "our_time_s": our_seconds,
            "reference_time_s": reference_seconds,
            "time_ratio": our_seconds / reference_seconds,
        })
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mixture", nargs="+", default=list(data.MIXTURES), choices=list(data.MIXTURES))
    parser.add_argument("--tpr", type=float, default=20)
    parser.add_argument("--reference-benchmarks", nargs="+", default=["hellaswag", "arc_easy"],
                        help="benchmarks on which to run the slow BNSL reference (default: %(default)s)")
    parser.add_argument("--all", action="store_true", help="run the BNSL reference on every benchmark")
    parser.add_argument("--starts", type=int, default=100, help="BNSL reference random starts")
    parser.add_argument("--hops", type=int, default=100, help="basinhopping steps per BNSL reference start")
    parser.add_argument("--workers", type=int, default=1, help="processes for the BNSL reference")
    parser.add_argument("--paper-tolerances", action="store_true",
                        help="run every basinhopping step at the paper's L-BFGS-B tolerances (hours per benchmark)")
    args = parser.parse_args()

    fit_records, reference_records = [], []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for mixture in args.mixture:
            frame = data.accuracy_frame(mixture, tpr=args.tpr)
            for benchmark, rows in frame.groupby("benchmark", sort=False):
                kept, dropped = drop_at_or_below_chance(rows)
                chance = float(rows["chance"].iloc[0])
                labels = {"mixture": mixture, "benchmark": benchmark}
                records, fits = fit_every_law(kept, chance)
                fit_records += [{**labels, "n_fitted": len(kept), "n_dropped": len(dropped), **r} for r in records]
                run_bnsl = args.all or benchmark in args.reference_benchmarks
                comparison = compare_with_reference(kept, chance, fits, run_bnsl, args, pool)
                reference_records += [{**labels, **r} for r in comparison]
                for r in comparison:
                    print(
                        f"  {mixture:4s} {benchmark:42s} {r['law']:10s} ours {r['our_loss']:.9e} "
                        f"reference {r['reference_loss']:.9e} ({r['relative_difference']:+.1e}), "
                        f"{r['our_time_s']:.2f} s vs {r['reference_time_s']:.1f} s",
                        flush=True,
                    )

    pd.set_option("display.width", 250)
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.max_colwidth", 80)
    fits = pd.DataFrame(fit_records)
    print(f"\nFits at tpr {args.tpr:g} (time in ms, Huber loss of log residuals, RMSE in accuracy points)")
    ok = fits[fits["status"] == "ok"]
    table = ok.pivot_table(index=["mixture", "benchmark"], columns="law",
                           values=["time_ms", "huber_loss", "rmse_points"], sort=False)
    print(table.to_string(float_format=lambda v: f"{v:.3g}"))
    print("\nSkipped fits")
    skipped = fits[fits["status"] != "ok"]
    print(skipped[["mixture", "benchmark", "law", "n_fitted", "n_dropped", "status"]].to_string(index=False))
    print("\nTotal fit time per law (s)")
    print((ok.groupby("law", sort=False)["time_ms"].sum() / 1e3).to_string(float_format=lambda v: f"{v:.2f}"))

    references = pd.DataFrame(reference_records)
    print("\nOurs against the paper-style searches (same objective, parametrisation, bounds)")
    print(references.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for law, group in references.groupby("law", sort=False):
        print(
            f"{law}: ours matches or beats the reference on {group['ours_matches_or_beats'].sum()} of "
            f"{len(group)} benchmarks (worst relative difference {group['relative_difference'].max():+.1e}); "
            f"time ratio median {group['time_ratio'].median():.2g}, max {group['time_ratio'].max():.2g}"
        )


if __name__ == "__main__":
    main()
