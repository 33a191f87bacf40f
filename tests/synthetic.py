"""SYNTHETIC data for the unit tests, generated from known parameters, never taken from data/.

Every generator of the tests lives here; each test picks the truth, the inputs and the
seed, so its data stay visible at the call.

Noise
  * :func:`noisy` -- values plus Gaussian noise (in accuracy, loss or ``log(-log Q)``,
    whatever the values are);
  * :func:`scattered_accuracy` -- accuracies from a law's ``-log Q`` with a log-normal
    scatter (the laws' own noise model: Gaussian in ``log(-log Q)``).

Curves
  * :func:`direct_law_accuracy` -- accuracies on Eq. 2, optionally bent, with noise in
    ``log(-log Q)``;
  * :func:`loss_curve` -- losses on ``E + A C^-alpha`` (stage 1 of the two-stage approach);
  * :func:`logistic_accuracy` -- accuracies on a logistic map of the loss (stage 2);
  * :func:`domain_losses` -- three correlated domain losses around one loss;
  * :func:`ratio_grid` -- model sizes at every compute and tokens-per-parameter ratio.

Frames
  * :func:`benchmark_rows` -- a backtest frame of one benchmark from given values;
  * :func:`direct_law_benchmarks` -- several benchmarks on Eq. 2 with scatter;
  * :func:`ratio_rows` -- one benchmark at every compute and ratio, from a law of N and D;
  * :func:`pass_at_k_rows` -- pass@k on a compute x k grid from Eq. 5;
  * :func:`synthetic_rows` -- a backtest frame of one benchmark for any registered
    :class:`~scalelib.interfaces.Law`, its inputs following the law's columns.

Others
  * :func:`synthetic_interval` -- a fixed prediction interval to draw;
  * :func:`regression_data` -- a smooth nonlinear regression problem.

Imported by the tests (``from synthetic import ...``; pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.data.normalise import REFERENCE_COMPUTE, accuracy_from_neg_log_q
from scalelib.interfaces import Law, PredictionInterval
from scalelib.laws.direct_law import direct_law_neg_log_q
from scalelib.laws.pass_at_k import pass_at_k_law_log_neg_log_q

RATIOS = (10.0, 20.0, 40.0, 80.0, 160.0)
"""Tokens per parameter of the synthetic runs of a law of N and D."""

K_VALUES = (1, 2, 4, 8, 16)
"""k of the synthetic runs of a law of k (pass@k)."""

CHANCE = 0.25
"""Chance level of the synthetic accuracies (0 for pass@k, an open-answer score)."""

Seed = int | np.random.Generator
"""A seed, or a generator whose stream a generator continues (several draws from one seed)."""


def noisy(values: ArrayLike, noise: float, seed: Seed = 0) -> np.ndarray:
    """SYNTHETIC noise: ``values`` plus Gaussian noise of standard deviation ``noise``.

    The draws come from ``numpy.random.default_rng(seed)``, one per value, even when
    ``noise`` is 0 (so a generator passed as ``seed`` advances the same either way).
    """
    values = np.asarray(values, dtype=float)
    return values + np.random.default_rng(seed).normal(0.0, noise, values.shape)


def scattered_accuracy(neg_log_q: ArrayLike, chance: float, *, scatter: float = 0.0, seed: Seed = 0) -> np.ndarray:
    """SYNTHETIC accuracies above ``chance``: ``-log Q`` times ``exp(scatter * z)``, z standard normal from ``seed``."""
    neg_log_q = np.asarray(neg_log_q, dtype=float)
    neg_log_q = neg_log_q * np.exp(np.random.default_rng(seed).normal(0.0, scatter, neg_log_q.shape))
    return accuracy_from_neg_log_q(neg_log_q, chance)


def direct_law_accuracy(compute: ArrayLike, log_A: float, alpha: float, chance: float = CHANCE, *,
                        log_noise: float = 0.0, curvature: float = 0.0, seed: Seed = 0) -> np.ndarray:
    """SYNTHETIC accuracies on Eq. 2 (``-log Q = A C^-alpha``) with Gaussian noise in ``log(-log Q)``.

    ``curvature`` bends the law: ``log(-log Q)`` gains ``curvature * log(C / 1e18)^2``.
    The noise (:func:`noisy`, standard deviation ``log_noise``) is added after the bend.
    """
    compute = np.asarray(compute, dtype=float)
    log_neg_log_q = np.log(direct_law_neg_log_q(compute, log_A, alpha)) + curvature * np.log(compute / 1e18) ** 2
    return accuracy_from_neg_log_q(np.exp(noisy(log_neg_log_q, log_noise, seed)), chance)


def loss_curve(compute: ArrayLike, E: float, A: float, alpha: float, *, noise: float = 0.0,
               seed: Seed = 0) -> np.ndarray:
    """SYNTHETIC losses (nats): ``E + A C^-alpha`` plus Gaussian noise (:func:`noisy`)."""
    return noisy(E + A * np.asarray(compute, dtype=float) ** -alpha, noise, seed)


def logistic_accuracy(loss: ArrayLike, chance: float, ceiling: float, k: float, L0: float) -> np.ndarray:
    """SYNTHETIC accuracies on a logistic map: ``chance + (ceiling - chance) / (1 + exp(k (L - L0)))``."""
    return chance + (ceiling - chance) / (1 + np.exp(k * (np.asarray(loss, dtype=float) - L0)))


def domain_losses(own: ArrayLike, *, noise: float, seed: Seed = 0) -> np.ndarray:
    """SYNTHETIC losses on three domains, one column each: ``own + 0.25``, ``own``, ``own + 0.15``.

    The two shifted columns get Gaussian noise (:func:`noisy`, first column first), so
    they are correlated with ``own`` but not equal to a shift of it.
    """
    own = np.asarray(own, dtype=float)
    rng = np.random.default_rng(seed)
    return np.column_stack([noisy(own + 0.25, noise, rng), own, noisy(own + 0.15, noise, rng)])


def ratio_grid(compute: ArrayLike, ratios: ArrayLike = RATIOS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SYNTHETIC model sizes: every compute at every ratio, ratio by ratio.

    Returns ``(params, tokens, tpr)`` with ``params = sqrt(C / (6 tpr))`` and
    ``tokens = tpr * params``, so ``6 N D = C``.
    """
    compute = np.asarray(compute, dtype=float)
    tpr = np.repeat(np.asarray(ratios, dtype=float), len(compute))
    params = np.sqrt(np.tile(compute, len(ratios)) / (6 * tpr))
    return params, tpr * params, tpr


def benchmark_rows(compute: ArrayLike, values: ArrayLike, *, benchmark: str = "synthetic", chance: float = CHANCE,
                   **columns: object) -> pd.DataFrame:
    """SYNTHETIC backtest rows of one benchmark: run (``run0``, ``run1``, ...), benchmark, flops, value, chance.

    ``columns`` add further columns (a mixture, ``n_items``, ...), after these.
    """
    compute = np.asarray(compute, dtype=float)
    return pd.DataFrame({"run": [f"run{i}" for i in range(len(compute))], "benchmark": benchmark, "flops": compute,
                         "value": values, "chance": chance, **columns})


def direct_law_benchmarks(compute: ArrayLike, benchmarks: tuple[str, ...] = ("task_a", "task_b"), *,
                          scatter: float = 0.02, chance: float = CHANCE) -> pd.DataFrame:
    """SYNTHETIC runs of several benchmarks on Eq. 2, one after another (:func:`benchmark_rows`).

    Benchmark ``i`` has ``-log Q = (700 + 100 i) C^-0.15``, scattered by
    :func:`scattered_accuracy` with seed ``i``.
    """
    compute = np.asarray(compute, dtype=float)
    frames = [
        benchmark_rows(compute, scattered_accuracy((700.0 + 100 * i) * compute**-0.15, chance, scatter=scatter, seed=i),
                       benchmark=name, chance=chance)
        for i, name in enumerate(benchmarks)
    ]
    return pd.concat(frames, ignore_index=True)


def ratio_rows(compute: ArrayLike, neg_log_q: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
               ratios: ArrayLike = RATIOS, noise: float = 0.0, seed: Seed = 0, chance: float = CHANCE,
               **columns: object) -> pd.DataFrame:
    """SYNTHETIC runs of one benchmark at every compute and ratio (:func:`ratio_grid`), ratio by ratio.

    The accuracy follows ``neg_log_q(params, tokens)`` plus Gaussian noise in accuracy
    (:func:`noisy`). Columns: those of :func:`benchmark_rows` (flops ``6 N D``), then
    params, tokens, tpr and ``columns``.
    """
    params, tokens, tpr = ratio_grid(compute, ratios)
    accuracy = noisy(accuracy_from_neg_log_q(neg_log_q(params, tokens), chance), noise, seed)
    return benchmark_rows(6 * params * tokens, accuracy, chance=chance, params=params, tokens=tokens, tpr=tpr,
                          **columns)


def pass_at_k_rows(compute: ArrayLike, k_values: ArrayLike, parameters: dict[str, float], *, run_noise: float = 0.0,
                   point_noise: float = 0.0, seed: Seed = 0) -> pd.DataFrame:
    """SYNTHETIC pass@k on a (compute x k) grid from Eq. 5 at ``parameters``, noise in ``log(-log Q)``.

    ``run_noise`` is shared by the k values of a run (as real evaluations share their
    samples), drawn first; ``point_noise`` is independent per point. Columns: run,
    benchmark (``humaneval-py``), flops, k, value, chance (0).
    """
    rng = np.random.default_rng(seed)
    compute = np.asarray(compute, dtype=float)
    grid_compute, k = (grid.ravel() for grid in np.meshgrid(compute, k_values, indexing="ij"))
    run_index = np.repeat(np.arange(len(compute)), len(k_values))
    log_neg_log_q = (pass_at_k_law_log_neg_log_q(grid_compute, k, **parameters)
                     + rng.normal(0, run_noise, len(compute))[run_index]
                     + rng.normal(0, point_noise, len(grid_compute)))
    return pd.DataFrame({"run": [f"run{i}" for i in run_index], "benchmark": "humaneval-py", "flops": grid_compute,
                         "k": k, "value": np.exp(-np.exp(log_neg_log_q)), "chance": 0.0})


def synthetic_rows(law: Law, parameters: ArrayLike, *, n_runs: int = 16, scatter: float = 0.0,
                   seed: int = 0) -> pd.DataFrame:
    """SYNTHETIC runs of ``law`` at ``parameters``: one benchmark, compute over four decades around 1e21 FLOPs.

    The inputs follow the law's columns (N and D at several ratios, or several k per
    run); the score is the law's accuracy with the scatter of :func:`scattered_accuracy`.
    """
    compute = REFERENCE_COMPUTE * np.logspace(-2.5, 1.5, n_runs)
    chance = 0.0 if "k" in law.columns else CHANCE
    rows = pd.DataFrame({"run": [f"synthetic{i}" for i in range(n_runs)], "flops": compute})
    if "params" in law.columns:
        ratios = np.resize(RATIOS, n_runs)
        params = np.sqrt(compute / (6.0 * ratios))
        rows = rows.assign(params=params, tokens=ratios * params, tpr=ratios)
    if "k" in law.columns:
        rows = rows.merge(pd.DataFrame({"k": K_VALUES}), how="cross")
    neg_log_q = law.neg_log_q(law.inputs(rows, "flops"), np.asarray(parameters, dtype=float))
    return rows.assign(benchmark="synthetic", chance=chance,
                       value=scattered_accuracy(neg_log_q, chance, scatter=scatter, seed=seed))


def synthetic_interval(n_points: int, level: float = 0.9) -> PredictionInterval:
    """A SYNTHETIC interval: point forecasts from 0.3 to 0.6, 0.05 either side."""
    predicted = np.linspace(0.3, 0.6, n_points)
    return PredictionInterval(predicted, predicted - 0.05, predicted + 0.05, level, "synthetic", 0.0)


def regression_data(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC regression: three standard normal inputs, target ``tanh(x0) + x1 / 2`` plus noise 0.05."""
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(n, 3))
    return inputs, noisy(np.tanh(inputs[:, 0]) + 0.5 * inputs[:, 1], 0.05, rng)
