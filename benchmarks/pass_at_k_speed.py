"""Speed of chapter 5's tools: the pass@k estimator on raw sample counts, and Eq. 5 on the released data.

Prints wall times (best of ``--repeats``) for

* :func:`scalelib.laws.pass_at_k.pass_at_k` on synthetic per-problem counts (a benchmark of
  164 problems and one of 10,000, n = 200 samples each, k = 1 ... 128), against the
  log-gamma formula, with the worst relative difference between the two;
* loading the pass@k frame (:func:`scalelib.laws.pass_at_k.load_pass_at_k`);
* fitting Eq. 5 to the three code benchmarks (DCLM, tpr 20), plain and clustered;
* the two backtests of the chapter.

Usage::

    python benchmarks/pass_at_k_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.special import gammaln

from scalelib.evaluation.backtest import backtest, backtest_split
from scalelib.laws.pass_at_k import fit_pass_at_k_by_benchmark, load_pass_at_k, pass_at_k, pass_at_k_forecaster

K_VALUES = 2 ** np.arange(8)


def best_time(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def log_gamma_pass_at_k(n: int, correct: np.ndarray, k: int) -> np.ndarray:
    """``1 - C(n - c, k) / C(n, k)`` through log-gamma, the vectorised alternative."""
    reachable = n - correct >= k
    free = np.where(reachable, n - correct, k)
    log_ratio = gammaln(free + 1) - gammaln(free - k + 1) - gammaln(n + 1) + gammaln(n - k + 1)
    return np.where(reachable, -np.expm1(log_ratio), 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    rng = np.random.default_rng(0)  # synthetic sample counts, for timing only
    n_samples = 200

    print("estimator, n = 200 samples per problem, k = 1 ... 128 (synthetic counts)")
    for n_problems in (164, 10_000):
        correct = rng.binomial(n_samples, rng.beta(0.3, 1.5, n_problems))
        product = best_time(lambda: [pass_at_k(n_samples, correct, k) for k in K_VALUES], repeats)
        log_gamma = best_time(lambda: [log_gamma_pass_at_k(n_samples, correct, k) for k in K_VALUES], repeats)
        ours = np.array([pass_at_k(n_samples, correct, k) for k in K_VALUES])
        theirs = np.array([log_gamma_pass_at_k(n_samples, correct, k) for k in K_VALUES])
        positive = ours > 0
        difference = np.max(np.abs(ours[positive] - theirs[positive]) / ours[positive])
        print(f"  {n_problems:>6} problems: product form {product * 1e3:8.2f} ms, log-gamma {log_gamma * 1e3:6.2f} ms, "
              f"max relative difference {difference:.1e}")

    load_time = best_time(lambda: load_pass_at_k("dclm"), repeats)
    kept, _ = load_pass_at_k("dclm")
    print(f"load_pass_at_k('dclm'): {load_time * 1e3:.0f} ms ({len(kept)} rows)")
    for cluster_by_run in (False, True):
        fit_time = best_time(lambda: fit_pass_at_k_by_benchmark(kept, cluster_by_run=cluster_by_run), repeats)
        print(f"Eq. 5, three benchmarks, cluster_by_run={cluster_by_run}: {fit_time * 1e3:.1f} ms")
    forecaster = pass_at_k_forecaster()
    in_compute = best_time(lambda: backtest(kept, forecaster, compute_cut=5e21), repeats)
    in_k = best_time(
        lambda: backtest_split(kept, forecaster, held_out=kept["k"] > 16, split="k <= 16", sort_column="k"),
        repeats,
    )
    print(f"backtest in compute: {in_compute * 1e3:.1f} ms; backtest in k: {in_k * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
