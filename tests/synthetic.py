"""SYNTHETIC runs for the unit tests, generated from known parameters, never taken from data/.

* :func:`scattered_accuracy` -- accuracies from a law's ``-log Q`` with a log-normal
  scatter (the laws' own noise model: Gaussian in ``log(-log Q)``);
* :func:`synthetic_rows` -- a backtest frame of one synthetic benchmark for any
  registered :class:`~scalelib.interfaces.Law`, its inputs following the law's columns.

Imported by the tests (``from synthetic import ...``; pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.interfaces import Law
from scalelib.data.normalise import REFERENCE_COMPUTE, accuracy_from_neg_log_q

RATIOS = (10.0, 20.0, 40.0, 80.0, 160.0)
"""Tokens per parameter of the synthetic runs of a law of N and D."""

K_VALUES = (1, 2, 4, 8, 16)
"""k of the synthetic runs of a law of k (pass@k)."""

CHANCE = 0.25
"""Chance level of the synthetic accuracies (0 for pass@k, an open-answer score)."""


def scattered_accuracy(neg_log_q: ArrayLike, chance: float, *, scatter: float = 0.0, seed: int = 0) -> np.ndarray:
    """SYNTHETIC accuracies: ``-log Q`` times ``exp(scatter * z)``, z standard normal from ``seed``, above ``chance``."""
    neg_log_q = np.asarray(neg_log_q, dtype=float)
    neg_log_q = neg_log_q * np.exp(np.random.default_rng(seed).normal(0.0, scatter, neg_log_q.shape))
    return accuracy_from_neg_log_q(neg_log_q, chance)


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
