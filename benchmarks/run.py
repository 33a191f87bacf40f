"""The book's speed figures, and (with ``--coverage``) how well its intervals are calibrated.

Prints

1. the cold book build time: ``jupyter-book build -W --keep-going`` of a fresh copy of
   the repository in a temporary folder (no ``_build``, so no execution cache: every
   notebook is executed);
2. the nbval time: ``pytest chapters/`` (every notebook re-executed and compared with its
   committed outputs);
3. every law's fit time and objective on the released data: Eq. 2 (closed form and
   lmfit), Eq. 6 and Eq. 1 per benchmark of both mixtures at tpr 20 (through
   ``benchmarks/fit_laws.py``), Eq. 4 per DCLM benchmark over all ratios, Eq. 5 per code
   benchmark, and the two-stage logistic forecast per benchmark. The objective is the
   same for all: the Huber loss (delta = 1e-3, summed) of the residuals of
   ``log(-log Q)``, with the RMSE in accuracy points;
4. the time of one forecast with its interval (``scalelib.evaluation.intervals``) for every method,
   split into fitting (point fit and drift calibration) and the interval itself
   (bootstrap), per benchmark of the DCLM mixture fitted below 1e21 FLOPs;
5. with ``--coverage``: the share of held-out runs inside their nominal 90% interval in
   the backtests of the book (both mixtures, tpr 20, headline benchmarks, cuts 1e21 and
   1e22 FLOPs for DCLM, 1e20 and 1e21 for C4), before and after calibration. Slow
   (about half an hour with BNSL).

Usage::

    python benchmarks/run.py                       # everything but the coverage study
    python benchmarks/run.py --skip-build --skip-nbval
    python benchmarks/run.py --skip-build --skip-nbval --skip-fits --coverage --coverage-laws direct
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from fit_laws import fit_every_law, timed

from scalelib.data import released as data
from scalelib.evaluation import two_stage
from scalelib.evaluation.backtest import backtest_at_cuts
from scalelib.data.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.evaluation.intervals import (
    N_RESAMPLES,
    bootstrap_interval_forecaster,
    law_interval_forecaster,
    summarise_intervals,
    transformed,
)
from scalelib.laws.loss_to_accuracy import fit_logistic_map
from scalelib.data.normalise import ScalingDataError, drop_at_or_below_chance, huber_loss
from scalelib.laws.registry import LAWS as REGISTERED_LAWS
from scalelib.laws.pass_at_k import CODE_BENCHMARKS, PASS_AT_K_LAW, fit_pass_at_k_by_benchmark, load_pass_at_k
from scalelib.laws.ratio_law import RATIO_LAW

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COPY_IGNORED = shutil.ignore_patterns("_build", ".git", ".pytest_cache", ".hypothesis", "__pycache__", "*.egg-info")
COVERAGE_CUTS = {"dclm": (1e21, 1e22), "c4": (1e20, 1e21)}
TIMED_BENCHMARKS = ("hellaswag", "arc_easy", "mmlu", "humaneval-py")
COVERAGE_LAWS = tuple(name for name, law in REGISTERED_LAWS.items() if law.columns == ("flops",))
"""Laws whose coverage ``--coverage`` measures: the registered laws of compute alone (Eq. 2 first)."""


def run_timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, result


def report_command(label: str, seconds: float, result: subprocess.CompletedProcess) -> None:
    status = "ok" if result.returncode == 0 else f"FAILED (exit code {result.returncode})"
    print(f"{label}: {seconds:.1f} s, {status}")
    if result.returncode != 0:
        print("\n".join((result.stdout + result.stderr).splitlines()[-15:]))


def cold_book_build() -> None:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "book"
        shutil.copytree(ROOT, copy, ignore=COPY_IGNORED)
        seconds, result = run_timed([str(BIN / "jupyter-book"), "build", str(copy), "-W", "--keep-going"], copy)
    report_command("cold book build (fresh copy, no execution cache)", seconds, result)


def nbval() -> None:
    seconds, result = run_timed([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "chapters/"], ROOT)
    summary = (result.stdout.strip().splitlines() or [""])[-1]
    report_command(f"nbval, pytest chapters/ ({summary})", seconds, result)


def fit_record(law: str, seconds: float, predicted: np.ndarray, rows: pd.DataFrame, chance: float) -> dict:
    """Time, Huber loss of the log(-log Q) residuals and RMSE (points) of one fit."""
    observed = rows["value"].to_numpy()
    return {
        "law": law, "time_ms": 1e3 * seconds,
        "huber_loss": huber_loss(transformed(predicted, chance) - transformed(observed, chance)),
        "rmse_points": 100 * np.sqrt(np.mean((predicted - observed) ** 2)),
    }


def law_fits() -> pd.DataFrame:
    records = []
    for mixture in data.MIXTURES:
        frame = data.accuracy_frame(mixture, tpr=20, benchmarks=HEADLINE_BENCHMARKS)
        for _, rows in frame.groupby("benchmark", sort=False):
            kept, _ = drop_at_or_below_chance(rows)
            fits, _ = fit_every_law(kept, float(rows["chance"].iloc[0]))
            records += [r for r in fits if r["status"] == "ok"]
    dclm, _ = drop_at_or_below_chance(data.accuracy_frame("dclm", tpr=None, benchmarks=HEADLINE_BENCHMARKS))
    for _, rows in dclm.groupby("benchmark", sort=False):
        try:
            fit, seconds = timed(RATIO_LAW.fit_rows, rows, "flops")
        except ScalingDataError:
            continue
        chance = float(rows["chance"].iloc[0])
        predicted = fit.predict(rows["params"], rows["tokens"])
        records.append(fit_record(f"{RATIO_LAW.name} ({RATIO_LAW.title})", seconds, predicted, rows, chance))
    code, _ = load_pass_at_k()
    for (_, _), rows in code.groupby(["mixture", "benchmark"], sort=False):
        (fits, _), seconds = timed(fit_pass_at_k_by_benchmark, rows, cluster_by_run=False)
        for fit in fits.values():
            records.append(fit_record("pass@k (Eq. 5)", seconds, fit.predict(rows["flops"], rows["k"]), rows, 0.0))
    runs = data.load_runs()
    scores = two_stage.merge_losses(data.accuracy_frame(tpr=20, benchmarks=HEADLINE_BENCHMARKS), runs)
    logistic = two_stage.two_stage_forecaster(fit_logistic_map)
    for _, rows in drop_at_or_below_chance(scores)[0].groupby(["mixture", "benchmark"], sort=False):
        try:
            predict, seconds = timed(logistic, rows)
        except ScalingDataError:
            continue
        records.append(fit_record("two-stage logistic", seconds, predict(rows), rows, float(rows["chance"].iloc[0])))
    return pd.DataFrame(records)


def print_law_fits(fits: pd.DataFrame) -> None:
    table = fits.groupby("law", sort=False).agg(
        n_fits=("time_ms", "size"),
        total_s=("time_ms", lambda ms: ms.sum() / 1e3),
        median_ms=("time_ms", "median"),
        max_ms=("time_ms", "max"),
        median_huber_loss=("huber_loss", "median"),
        median_rmse_points=("rmse_points", "median"),
    )
    print("\nLaw fits on the released data (one fit per benchmark and mixture)")
    print(table.to_string(float_format=lambda value: f"{value:.4g}"))


def interval_methods(n_resamples: int) -> dict[str, tuple[Callable, tuple[str, ...]]]:
    """Every interval method, by label, with the input columns of its law (bootstrap size given, bars off).

    Every law of the registry with its bootstrap (and its analytic interval where it has
    one), then the two-stage logistic route.
    """
    options = dict(n_resamples=n_resamples, progress=False)
    methods = {}
    for law in REGISTERED_LAWS.values():
        if law.has_analytic_interval:
            methods[f"{law.name} ({law.title}), analytic"] = (law_interval_forecaster(law), law.columns)
        methods[f"{law.name} ({law.title}), bootstrap"] = (
            law_interval_forecaster(law, interval="bootstrap", **options), law.columns
        )
    methods["two-stage logistic, bootstrap (refit)"] = (
        bootstrap_interval_forecaster(two_stage.two_stage_forecaster(fit_logistic_map), **options), ("flops",)
    )
    return methods


def interval_frames() -> dict[tuple[str, ...], pd.DataFrame]:
    """The rows each law forecasts, by its input columns: DCLM at tpr 20, all ratios for N and D, pass@k rows for k."""
    runs = data.load_runs()
    at_tpr_20 = two_stage.merge_losses(data.accuracy_frame("dclm", tpr=20, benchmarks=TIMED_BENCHMARKS), runs)
    all_ratios = data.accuracy_frame("dclm", tpr=None, benchmarks=TIMED_BENCHMARKS)
    code, _ = load_pass_at_k("dclm", benchmarks=[b for b in TIMED_BENCHMARKS if b in CODE_BENCHMARKS])
    return {RATIO_LAW.columns: drop_at_or_below_chance(all_ratios)[0], PASS_AT_K_LAW.columns: code,
            ("flops",): drop_at_or_below_chance(at_tpr_20)[0]}


def interval_timings(n_resamples: int, cut: float = 1e21) -> None:
    frames = interval_frames()
    records = []
    for method, (forecaster, columns) in interval_methods(n_resamples).items():
        frame = frames[columns]
        for benchmark, rows in frame.groupby("benchmark", sort=False):
            training, held_out = rows[rows["flops"] <= cut], rows[rows["flops"] > cut]
            try:
                predict, fit_seconds = timed(forecaster, training.copy())
            except ScalingDataError:
                continue
            interval, interval_seconds = timed(predict, held_out.copy(), 0.9)
            records.append({"method": method, "benchmark": benchmark, "fit_s": fit_seconds,
                            "interval_s": interval_seconds, "total_s": fit_seconds + interval_seconds})
    table = pd.DataFrame(records).groupby("method", sort=False).agg(
        n_forecasts=("benchmark", "size"), mean_fit_s=("fit_s", "mean"), mean_interval_s=("interval_s", "mean"),
        mean_total_s=("total_s", "mean"), max_total_s=("total_s", "max"),
    )
    print(f"\nTime per forecast with its interval ({n_resamples} resamples; DCLM, fitted on C <= {cut:.0e}; "
          f"benchmarks {', '.join(TIMED_BENCHMARKS)}; fit = point fit + drift calibration)")
    print(table.to_string(float_format=lambda value: f"{value:.3g}"))


def coverage_backtests(kept: pd.DataFrame, forecaster: Callable) -> pd.DataFrame:
    """The book's interval backtests: every mixture and cut of ``COVERAGE_CUTS``."""
    return backtest_at_cuts(kept, forecaster, COVERAGE_CUTS)


def coverage(laws: list[str], n_resamples: int) -> None:
    scores = data.accuracy_frame(tpr=20, benchmarks=HEADLINE_BENCHMARKS)
    kept, _ = drop_at_or_below_chance(scores)
    bootstrap = [("bootstrap + residuals", dict(interval="bootstrap", calibrate=False)),
                 ("bootstrap + residuals, calibrated", dict(interval="bootstrap"))]
    analytic = [("analytic (textbook OLS)", dict(calibrate=False)),
                ("analytic, calibrated", {}),
                bootstrap[0],
                ("bootstrap + binomial", dict(interval="bootstrap", noise="binomial", calibrate=False)),
                bootstrap[1],
                ("bootstrap + binomial, calibrated", dict(interval="bootstrap", noise="binomial"))]
    variants = {
        law: [(f"{law}, {label}", options) for label, options in
              (analytic if REGISTERED_LAWS[law].has_analytic_interval else bootstrap)]
        for law in COVERAGE_LAWS
    }
    print("\nCoverage of nominal 90% intervals in the book's backtests (tpr 20, headline benchmarks)")
    for law in laws:
        for label, options in variants[law]:
            forecaster = law_interval_forecaster(law, n_resamples=n_resamples, progress=False, **options)
            started = time.perf_counter()
            result = coverage_backtests(kept, forecaster)
            fitted = result[result["status"] == "ok"]
            by_split = summarise_intervals(result, by=["mixture", "split"])
            splits = "  ".join(f"{row.mixture} {row.split}: {row.coverage:.2f}" for row in by_split.itertuples())
            print(f"{label:45s} coverage {fitted['covered'].astype(bool).mean():.3f} of {len(fitted)} held-out runs, "
                  f"median width {fitted['width_points'].median():.1f} points | {splits} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    for law in [name for name in laws if REGISTERED_LAWS[name].has_analytic_interval]:
        coverage_at_levels(kept, law)


def coverage_at_levels(kept: pd.DataFrame, law: str) -> None:
    """Coverage of a law's analytic intervals at several levels, textbook and calibrated."""
    print(f"\nCoverage of the {law} law's analytic intervals at other levels")
    for calibrate in (False, True):
        for level in (0.5, 0.8, 0.9, 0.95):
            result = coverage_backtests(kept, law_interval_forecaster(law, level=level, calibrate=calibrate))
            fitted = result[result["status"] == "ok"]
            print(f"{'calibrated' if calibrate else 'textbook OLS':12s} level {level:.2f}: coverage "
                  f"{fitted['covered'].astype(bool).mean():.3f}, median width {fitted['width_points'].median():.1f} points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-build", action="store_true", help="skip the cold book build")
    parser.add_argument("--skip-nbval", action="store_true", help="skip pytest chapters/")
    parser.add_argument("--skip-fits", action="store_true", help="skip the law fit and interval timings")
    parser.add_argument("--resamples", type=int, default=N_RESAMPLES, help="bootstrap resamples (default: %(default)s)")
    parser.add_argument("--coverage", action="store_true", help="also measure interval coverage (slow)")
    parser.add_argument("--coverage-laws", nargs="+", default=list(COVERAGE_LAWS), choices=COVERAGE_LAWS)
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    if not args.skip_build:
        cold_book_build()
    if not args.skip_nbval:
        nbval()
    if not args.skip_fits:
        print_law_fits(law_fits())
        interval_timings(args.resamples)
    if args.coverage:
        coverage(args.coverage_laws, args.resamples)


if __name__ == "__main__":
    main()
