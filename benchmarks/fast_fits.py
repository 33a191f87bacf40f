"""Variable projection against the former multi-start fits and the paper's searches: same objective, less time.

The saturating law (Eq. 6) and Eq. 4 are fitted in ``scalelib`` by variable projection
(:mod:`scalelib.laws.profile_fit`): amplitudes in closed form on a grid of exponents, then one
polish. This script checks, fit by fit, that nothing was traded for the speed. On every
benchmark of both mixtures at tpr 20 (Eq. 6, fitted to all runs above chance and to
those at or below 1e21 FLOPs) and on every DCLM benchmark over all ratios (Eq. 4, the
same two sets), it runs side by side

* **new**: the library's fit;
* **multi-start**: the fit the library used before, rebuilt here from its own start grid
  (Eq. 6: alpha in (0.05, 0.15, 0.4, 1) x E in (0, 0.5, 0.9) of the smallest -log Q; Eq. 4:
  alpha, beta in (0.1, 0.3, 1)), each start solved by the Huber continuation of
  :func:`scalelib.data.normalise.fit_huber_from_starts`;
* **paper**: the paper-style search, L-BFGS-B at gtol = ftol = 1e-15 from its grid of
  starts (``fit_laws.saturating_reference``, ``fit_ratio_law.paper_starts``),

all on the same objective (Huber loss, delta = 1e-3, of the log residuals), bounds and
parametrisation. It prints, per law, the median and total times, the time ratios, and
the worst relative objective difference ``new / other - 1`` with the number of fits where
the new objective exceeds the other's by more than 1e-9 (relative).

It then runs today's fits beside the library as it was before issue 12's speed-ups
(``former.BASE_COMMIT``, imported as ``former_scalelib``: see ``former.py``), fit by
fit in one process so that both share the machine's load: Eq. 6 and the logistic map
(the speed targets), Eq. 4 and BNSL, on the sets of :func:`speed_sets` (tpr 20, C <= 1e21,
both mixtures, as the issue's timings; Eq. 4 on every ratio of DCLM, and at the cuts
1e20 and 3e20 too, where the drift calibration fits it), each fit repeated
``REPEATS`` times, the median per fit compared: old and new milliseconds, their ratio,
the worst ``new / old - 1`` of the objective and the fits worse by more than 1e-9.

It then times a 200-resample bootstrap forecast (``law_interval_forecaster(..., "bootstrap")``,
fitting, drift calibration and interval) per law on the DCLM runs below 1e21 FLOPs, with
the former library and today's, and
one fit of each two-stage piece (loss laws, maps, FLP-M) per benchmark
(``two_stage.time_stage_fits``).

Usage::

    python benchmarks/fast_fits.py
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from fit_laws import saturating_reference, timed
from fit_ratio_law import paper_reference
from two_stage import time_stage_fits

from former import former_module

from scalelib import data
from scalelib.book import direct_data
from scalelib.evaluation import two_stage
from scalelib.book import two_stage_data
from scalelib.data.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.laws.bnsl import fit_bnsl
from scalelib.evaluation.intervals import forecast_interval, law_interval_forecaster
from scalelib.data.normalise import (
    drop_at_or_below_chance,
    fit_huber_from_starts,
    huber_loss,
    log_compute_offset,
    neg_log_q,
)
from scalelib.laws.registry import LAWS as REGISTERED_LAWS
from scalelib.laws.registry import Law
from scalelib.laws.logistic_map import fit_logistic_map
from scalelib.laws.ratio_law import RATIO_LAW, centred_log_scales, fit_ratio_law
from scalelib.laws.saturating_law import SATURATING_LAW, fit_saturating_law

OBJECTIVE_TOLERANCE = 1e-9
"""Relative slack within which the new objective counts as no worse."""

SUBSETS = {"all runs": np.inf, "C <= 1e21": 1e21}
"""The run sets fitted for each benchmark: every run above chance, and those below 1e21 FLOPs."""


def multi_start_objective(law: Law, x: np.ndarray, log_target: np.ndarray, starts: list[np.ndarray]) -> float:
    """The Huber objective of the former fits: each start solved by Huber continuation, the best kept."""
    best = fit_huber_from_starts(
        lambda p: law.residuals(p, x, log_target),
        lambda p: law.jacobian(p, x, log_target),
        starts, bounds=law.bounds(x),
    )
    return huber_loss(best.fun)


def saturating_multi_start(x: np.ndarray, log_target: np.ndarray) -> float:
    """The former Eq. 6 fit: 12 grid starts, each by Huber continuation; its objective."""
    target = np.exp(log_target)
    starts = []
    for alpha, fraction in itertools.product((0.05, 0.15, 0.4, 1.0), (0.0, 0.5, 0.9)):
        floor = fraction * target.min()
        starts.append(np.array([np.mean(np.log(target - floor) + alpha * x), alpha, floor]))
    return multi_start_objective(SATURATING_LAW, x, log_target, starts)


def ratio_multi_start(x: np.ndarray, log_target: np.ndarray) -> float:
    """The former Eq. 4 fit: 9 grid starts of the exponents, each by Huber continuation; its objective."""
    log_half = np.log(0.5) + np.median(log_target)
    starts = [np.array([log_half, a, log_half, b]) for a, b in itertools.product((0.1, 0.3, 1.0), repeat=2)]
    return multi_start_objective(RATIO_LAW, x, log_target, starts)


def compare(law: str, rows: pd.DataFrame, fit_new: Callable, inputs: np.ndarray,
            multi_start: Callable, paper: Callable) -> dict:
    """One fit three ways: objectives and seconds. ``paper(inputs, log_target, rows)``."""
    chance = float(rows["chance"].iloc[0])
    log_target = np.log(neg_log_q(rows["value"].to_numpy(), chance))
    new, new_seconds = timed(fit_new, rows, chance)
    old_objective, old_seconds = timed(multi_start, inputs, log_target)
    paper_objective, paper_seconds = timed(paper, inputs, log_target, rows)
    return {
        "law": law, "n": len(rows), "new": new.objective, "multi-start": old_objective, "paper": paper_objective,
        "new_s": new_seconds, "multi-start_s": old_seconds, "paper_s": paper_seconds,
    }


def tpr20_fit_sets(subsets: dict[str, float], min_runs: int) -> Iterator[tuple[str, str, str, pd.DataFrame]]:
    """``(mixture, benchmark, subset, rows)`` of every fit set at tpr 20: runs above chance with C <= cut.

    Sets with fewer than ``min_runs`` runs are left out.
    """
    for mixture in data.MIXTURES:
        kept, _ = drop_at_or_below_chance(data.accuracy_frame(mixture, tpr=20))
        for benchmark, (subset, cut) in itertools.product(kept["benchmark"].unique(), subsets.items()):
            rows = kept[(kept["benchmark"] == benchmark) & (kept["flops"] <= cut)]
            if len(rows) >= min_runs:
                yield mixture, benchmark, subset, rows


def objective_comparisons() -> pd.DataFrame:
    """Every Eq. 6 and Eq. 4 fit of the module docstring, three ways."""
    records = []
    for mixture, benchmark, subset, rows in tpr20_fit_sets(SUBSETS, min_runs=4):
        records.append({"mixture": mixture, "benchmark": benchmark, "runs": subset, **compare(
            "Eq. 6 saturating", rows,
            lambda r, c: fit_saturating_law(r["flops"], r["value"], chance=c),
            log_compute_offset(rows["flops"].to_numpy()), saturating_multi_start,
            lambda x, log_target, _: saturating_reference(x, log_target),
        )})
    kept, _ = drop_at_or_below_chance(data.accuracy_frame("dclm", tpr=None))
    for benchmark, (subset, cut) in itertools.product(kept["benchmark"].unique(), SUBSETS.items()):
        rows = kept[(kept["benchmark"] == benchmark) & (kept["flops"] <= cut)]
        ratios = rows["tokens"] / rows["params"]
        if len(rows) < 5 or ratios.max() < 2 * ratios.min():
            continue
        records.append({"mixture": "dclm", "benchmark": benchmark, "runs": subset, **compare(
            "Eq. 4 ratio", rows,
            lambda r, c: fit_ratio_law(r["params"], r["tokens"], r["value"], chance=c),
            centred_log_scales(rows["params"], rows["tokens"]), ratio_multi_start,
            lambda x, log_target, training: paper_reference(training)[0],
        )})
    return pd.DataFrame(records)


def summarise(comparisons: pd.DataFrame, references: tuple[str, ...] = ("multi-start", "paper")) -> pd.DataFrame:
    """Per law and per reference: times, ratio, worst objective difference, fits worse than tolerance."""
    rows = []
    for (law, group), reference in itertools.product(comparisons.groupby("law", sort=False), references):
        relative = group["new"] / group[reference] - 1
        rows.append({
            "law": law, "against": reference, "fits": len(group),
            "median ms, other": 1e3 * group[f"{reference}_s"].median(),
            "median ms, new": 1e3 * group["new_s"].median(),
            "time ratio (other / new)": group[f"{reference}_s"].sum() / group["new_s"].sum(),
            "worst new/other - 1": relative.max(),
            "fits worse": int((relative > OBJECTIVE_TOLERANCE).sum()),
        })
    return pd.DataFrame(rows)


REPEATS = 3
"""Each fit of :func:`former_comparisons` is run this many times, old and new alternating."""


def speed_sets() -> dict[str, list[tuple[tuple, dict]]]:
    """By law, the ``(args, kwargs)`` of every fit timed against the former library.

    Eq. 6 and Eq. 1 (BNSL): every headline benchmark x mixture at tpr 20 with C <= 1e21 and
    at least 6 runs above chance. Logistic map: the same with the mixture's own validation loss, at least
    4 runs. Eq. 4: every DCLM benchmark over all ratios at C <= 1e20, 3e20, 1e21 and all
    runs, with at least 6 runs spanning a factor 2 in D / N.
    """
    _, usable, _ = direct_data.tpr20_scores()
    saturating = [
        ((rows["flops"].to_numpy(), rows["value"].to_numpy()), {"chance": float(rows["chance"].iloc[0])})
        for _, rows in usable[usable["flops"] <= 1e21].groupby(["mixture", "benchmark"]) if len(rows) >= 6
    ]
    _, kept, _ = two_stage_data.two_stage_points()
    kept = kept.dropna(subset=["own_loss"])
    logistic = [
        ((rows["own_loss"].to_numpy(), rows["value"].to_numpy()), {"chance": float(rows["chance"].iloc[0])})
        for _, rows in kept[kept["flops"] <= 1e21].groupby(["mixture", "benchmark"]) if len(rows) >= 4
    ]
    all_ratios, _ = drop_at_or_below_chance(data.accuracy_frame("dclm", tpr=None))
    ratio = []
    for (benchmark, cut) in itertools.product(all_ratios["benchmark"].unique(), (1e20, 3e20, 1e21, np.inf)):
        rows = all_ratios[(all_ratios["benchmark"] == benchmark) & (all_ratios["flops"] <= cut)]
        ratios = rows["tokens"] / rows["params"]
        if len(rows) >= 6 and ratios.max() > 2 * ratios.min():
            ratio.append(((rows["params"].to_numpy(), rows["tokens"].to_numpy(), rows["value"].to_numpy()),
                          {"chance": float(rows["chance"].iloc[0])}))
    return {"Eq. 6 saturating": saturating, "logistic map": logistic, "Eq. 4 ratio": ratio, "Eq. 1 BNSL": saturating}


FORMER_FITS = {
    "Eq. 6 saturating": ("saturating_law", "fit_saturating_law", fit_saturating_law, lambda fit: fit.objective),
    "logistic map": ("logistic_map", "fit_logistic_map", fit_logistic_map, lambda fit: fit.lmfit_result.chisqr),
    "Eq. 4 ratio": ("ratio_law", "fit_ratio_law", fit_ratio_law, lambda fit: fit.objective),
    "Eq. 1 BNSL": ("bnsl", "fit_bnsl", fit_bnsl, lambda fit: fit.objective),
}
"""By law: the former module and function, today's function, and the objective of a fit."""


def former_comparisons(repeats: int = REPEATS) -> pd.DataFrame:
    """Each law's fits of :func:`speed_sets`, former and new alternating: median ms and objectives."""
    records = []
    for law, sets in speed_sets().items():
        module, name, fit_new, objective = FORMER_FITS[law]
        fits = {"old": getattr(former_module(module), name), "new": fit_new}
        for args, kwargs in sets:
            seconds, objectives = {"old": [], "new": []}, {}
            for _, label in itertools.product(range(repeats), ("old", "new")):
                result, elapsed = timed(fits[label], *args, **kwargs)
                seconds[label].append(elapsed)
                objectives[label] = objective(result)
            records.append({
                "law": law, "old ms": 1e3 * np.median(seconds["old"]), "new ms": 1e3 * np.median(seconds["new"]),
                **objectives,
            })
    return pd.DataFrame(records)


def summarise_former(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Per law: median ms per fit, old and new, their ratio, worst objective difference, fits worse."""
    rows = []
    for law, group in comparisons.groupby("law", sort=False):
        relative = group["new"] / group["old"] - 1
        rows.append({
            "law": law, "fits": len(group), "median ms, old": group["old ms"].median(),
            "median ms, new": group["new ms"].median(),
            "ratio (old / new)": group["old ms"].median() / group["new ms"].median(),
            "worst new/old - 1": relative.max(), "best new/old - 1": relative.min(),
            "fits worse": int((relative > OBJECTIVE_TOLERANCE).sum()),
        })
    return pd.DataFrame(rows)


BOOTSTRAP_LAWS = tuple(law for law in REGISTERED_LAWS.values() if set(law.columns) <= {"flops", "params", "tokens"})
"""The laws whose bootstrap is timed: every registered law of compute or of N and D (Eq. 5 needs pass@k rows)."""


def bootstrap_times(laws: tuple[Law, ...] = BOOTSTRAP_LAWS) -> pd.DataFrame:
    """Seconds of one 200-resample bootstrap forecast per law and DCLM benchmark (C <= 1e21), former and new.

    Laws of compute alone are fitted at tpr 20 and forecast at 1e22 and 1e23 FLOPs; a law
    of N and D on every ratio, forecast at the three largest runs. Each forecast is made
    with the former library (``former.py``) and today's, one after the other.
    """
    former_intervals, former_laws = former_module("intervals"), former_module("laws").LAWS
    libraries = {
        "old": (former_intervals.law_interval_forecaster, former_intervals.forecast_interval, former_laws),
        "new": (law_interval_forecaster, forecast_interval, REGISTERED_LAWS),
    }
    records = []
    for law in laws:
        of_compute = law.columns == ("flops",)
        kept, _ = drop_at_or_below_chance(
            data.accuracy_frame("dclm", tpr=20 if of_compute else None, benchmarks=HEADLINE_BENCHMARKS)
        )
        for benchmark, rows in kept[kept["flops"] <= 1e21].groupby("benchmark"):
            record = {"law": law.name, "benchmark": benchmark}
            try:
                for label, (interval_fitter, forecast, registered) in libraries.items():
                    fitter = interval_fitter(
                        registered[law.name], interval="bootstrap", n_resamples=200, progress=False
                    )
                    started = time.perf_counter()
                    if of_compute:
                        forecast(fitter, rows, [1e22, 1e23])
                    else:
                        fitter(rows.copy())(rows.nlargest(3, "flops").copy())
                    record[label] = time.perf_counter() - started
            except ValueError as error:
                print(f"  {law.name} {benchmark}: skipped ({str(error)[:80]})")
                continue
            records.append(record)
    return pd.DataFrame(records)


def main() -> None:
    pd.set_option("display.width", 200)
    comparisons = objective_comparisons()
    print("Objective and time, new fit against the former multi-start fit and the paper's search")
    print(summarise(comparisons).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    worst = comparisons.assign(relative=comparisons["new"] / comparisons["multi-start"] - 1).nlargest(3, "relative")
    print("\nLargest new/multi-start - 1 (negative: the new fit is lower)")
    print(worst[["law", "mixture", "benchmark", "runs", "n", "relative"]].to_string(index=False))

    print("\nToday's fits against the former library (median ms per fit; objective new / old - 1)")
    print(summarise_former(former_comparisons()).to_string(index=False, float_format=lambda v: f"{v:.3g}"))

    print("\n200-resample bootstrap forecast, DCLM runs below 1e21 FLOPs (seconds per benchmark, former and new)")
    boot = bootstrap_times()
    print(boot.groupby("law", sort=False)[["old", "new"]].agg(["median", "max"]).to_string(
        float_format=lambda v: f"{v:.3f}"))

    print("\nTwo-stage pieces, one fit on all tpr-20 runs (ms per fit)")
    runs = data.load_runs()
    kept, _ = drop_at_or_below_chance(
        two_stage.merge_losses(data.accuracy_frame(tpr=20, benchmarks=HEADLINE_BENCHMARKS), runs)
    )
    pieces = time_stage_fits(runs[runs["tpr"] == 20], kept)
    print(pieces.groupby("fit", sort=False)["ms"].agg(["count", "median", "max"]).to_string(
        float_format=lambda v: f"{v:.1f}"))


if __name__ == "__main__":
    main()
