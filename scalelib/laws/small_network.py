"""A small neural network for regression whose fit is a global optimum: random features and ridge.

FLP-M (Chen et al. 2024) maps a few losses to accuracy with a small network. Trained by
gradient descent on a few dozen runs, such a network has countless equivalent minima,
and which one the optimiser reaches is decided by floating-point rounding: with
scikit-learn's ``MLPRegressor`` the same data and seed gave FLP-M backtest errors from
5.3 to 9.6 points depending on the CPU's BLAS kernel. This module removes the cause.
The network has one hidden layer of :data:`HIDDEN_UNITS` tanh units,

.. math::

    \\hat y(x) = b + \\sum_{h=1}^{H} \\beta_h \\tanh(w_h^\\top z + c_h),
    \\qquad z = \\text{standardised } x,

whose hidden weights :math:`w_h \\sim N(0, I/m)` and biases :math:`c_h \\sim U(-1, 1)` are
drawn once from ``numpy.random.default_rng(seed)`` and kept fixed (a *random-feature*
network). Only the output layer is fitted, by ridge regression,

.. math::

    \\min_{b, \\beta} \\sum_i (\\hat y(x_i) - y_i)^2 + \\lambda \\lVert \\beta \\rVert^2,

a convex problem solved in closed form: its optimum is unique, so every machine finds
the same network. The penalty :math:`\\lambda` is chosen per fit by exact leave-one-out
cross-validation on the fitted points alone (:data:`PENALTY_GRID`), so no constant is
tuned to any benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["HIDDEN_UNITS", "PENALTY_GRID", "SmallNetwork", "fit_small_network"]

HIDDEN_UNITS = 128
"""Random tanh features: wide enough that the fit behaves like a smooth kernel regression
rather than depending on a few lucky units."""

PENALTY_GRID = tuple(float(p) for p in np.logspace(-4, 2, 25))
"""Ridge penalties lambda tried (on standardised targets); the one with the lowest
leave-one-out error is kept."""


@dataclass(frozen=True, eq=False)
class SmallNetwork:
    """A fitted random-feature network: ``predict`` maps inputs ``(n, m)`` to outputs ``(n,)``.

    Attributes
    ----------
    hidden_weights, hidden_biases
        The fixed random first layer, shapes ``(m, H)`` and ``(H,)``.
    output_weights, output_bias
        The ridge-fitted output layer (on the standardised target).
    input_mean, input_scale, target_mean, target_scale
        The standardisation of inputs and target.
    penalty
        The ridge penalty chosen by leave-one-out cross-validation.
    seed
        Seed of the random first layer.
    """

    hidden_weights: np.ndarray
    hidden_biases: np.ndarray
    output_weights: np.ndarray
    output_bias: float
    input_mean: np.ndarray
    input_scale: np.ndarray
    target_mean: float
    target_scale: float
    penalty: float
    seed: int

    def features(self, inputs: ArrayLike) -> np.ndarray:
        """The hidden layer's activations, shape ``(n, H)``."""
        standard = (np.atleast_2d(np.asarray(inputs, dtype=float)) - self.input_mean) / self.input_scale
        return np.tanh(standard @ self.hidden_weights + self.hidden_biases)

    def predict(self, inputs: ArrayLike) -> np.ndarray:
        """The network's output for each row of ``inputs``, in the target's units."""
        standard = self.features(inputs) @ self.output_weights + self.output_bias
        return self.target_mean + self.target_scale * standard


def fit_small_network(inputs: ArrayLike, target: ArrayLike, *, seed: int, hidden_units: int = HIDDEN_UNITS) -> SmallNetwork:
    """Fit the random-feature network of the module docstring: ridge regression, penalty by leave-one-out.

    With centred features :math:`F = U S V^\\top` (thin SVD) and centred target
    :math:`t`, the ridge fit at penalty :math:`\\lambda` has fitted values
    :math:`U \\operatorname{diag}(s^2 / (s^2 + \\lambda)) U^\\top t` and leverages
    :math:`h_i = 1/n + \\sum_k U_{ik}^2 s_k^2 / (s_k^2 + \\lambda)`, so every penalty's
    leave-one-out residuals :math:`(t_i - \\hat t_i) / (1 - h_i)` come from one SVD.

    Parameters
    ----------
    inputs
        Shape ``(n, m)``: one row per example.
    target
        Shape ``(n,)``.
    seed
        Seed of the random first layer.
    hidden_units
        Number of random tanh features H.

    Returns
    -------
    SmallNetwork
    """
    inputs = np.atleast_2d(np.asarray(inputs, dtype=float))
    target = np.asarray(target, dtype=float).ravel()
    input_mean, input_scale = inputs.mean(axis=0), inputs.std(axis=0)
    input_scale = np.where(input_scale > 0, input_scale, 1.0)
    target_mean, target_scale = float(target.mean()), float(target.std()) or 1.0
    rng = np.random.default_rng(seed)
    n_inputs = inputs.shape[1]
    hidden_weights = rng.normal(0.0, 1.0 / np.sqrt(n_inputs), (n_inputs, hidden_units))
    hidden_biases = rng.uniform(-1.0, 1.0, hidden_units)
    features = np.tanh((inputs - input_mean) / input_scale @ hidden_weights + hidden_biases)
    feature_mean = features.mean(axis=0)
    centred_target = (target - target_mean) / target_scale
    left, singular, right_t = np.linalg.svd(features - feature_mean, full_matrices=False)
    projected = left.T @ centred_target
    best = None
    for penalty in PENALTY_GRID:
        shrink = singular**2 / (singular**2 + penalty)
        fitted = left @ (shrink * projected)
        leverage = 1.0 / len(target) + (left**2) @ shrink
        loo_error = float(np.mean(((centred_target - fitted) / (1.0 - leverage)) ** 2))
        if best is None or loo_error < best[0] * (1 - 1e-9):  # ties: the smaller penalty, on every machine
            best = (loo_error, penalty, shrink)
    _, penalty, shrink = best
    safe = np.where(singular > 0, singular, 1.0)
    output_weights = right_t.T @ (np.where(singular > 0, shrink / safe, 0.0) * projected)
    return SmallNetwork(
        hidden_weights=hidden_weights, hidden_biases=hidden_biases, output_weights=output_weights,
        output_bias=float(-feature_mean @ output_weights), input_mean=input_mean, input_scale=input_scale,
        target_mean=target_mean, target_scale=target_scale, penalty=float(penalty), seed=seed,
    )
