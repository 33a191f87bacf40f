"""The logistic map of stage 2: accuracy as a logistic function of validation loss, floor at chance.

.. math::

    \\mathrm{acc} = f + \\frac{c - f}{1 + \\exp\\big(k (L - L_0)\\big)},

with the floor :math:`f` fixed at the benchmark's chance level, the ceiling
:math:`c \\le 1`, the steepness :math:`k > 0` and the midpoint :math:`L_0` fitted with
lmfit within bounds, from the best points of a closed-form profile over ``(k, L0)``
(:func:`fit_logistic_map`). One of the four maps of :mod:`scalelib.laws.loss_to_accuracy`;
every public name here is importable from :mod:`scalelib.laws.loss_to_accuracy` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import lmfit
import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from scalelib.laws.loss_law import covariance_within_bounds
from scalelib.laws.map_inputs import _rmse_points, validate_map_inputs
from scalelib.laws.profile_fit import POLISH_RATIO, first_lowest, grid_local_minima

__all__ = [
    "LOGISTIC_K_BOUNDS",
    "LOGISTIC_L0_MARGIN",
    "LOGISTIC_K_GRID",
    "LOGISTIC_L0_GRID_POINTS",
    "LOGISTIC_POLISHED",
    "LOGISTIC_START_INSET",
    "LOGISTIC_TOLERANCE",
    "LogisticMapFit",
    "fit_logistic_map",
]

LOGISTIC_K_BOUNDS = (0.1, 50.0)
"""Bounds of the logistic map's steepness k, in nats^-1 (from nearly flat to a step)."""

LOGISTIC_L0_MARGIN = 2.0
"""The logistic map's midpoint L0 stays within this many nats of the fitted losses."""

LOGISTIC_K_GRID = np.geomspace(*LOGISTIC_K_BOUNDS, 31)
"""Steepnesses k (nats^-1) of the logistic map's profile grid: 31 values, 23% apart."""

LOGISTIC_L0_GRID_POINTS = 61
"""Midpoints L0 of the profile grid: evenly spaced across L0's bounds."""

LOGISTIC_POLISHED = 3
"""How many of the lowest local minima of the profile the logistic fit polishes."""

LOGISTIC_START_INSET = 1e-3
"""A polish starts this fraction of a parameter's range inside its bounds: lmfit maps a
bounded parameter through a sine, which is flat at the bound, so a start exactly there
would never move."""

LOGISTIC_TOLERANCE = 1e-12
"""``ftol`` and ``xtol`` of the logistic map's polish."""


@dataclass(frozen=True, eq=False)
class LogisticMapFit:
    """Result of :func:`fit_logistic_map`: ``acc = floor + (ceiling - floor) / (1 + exp(k (L - L0)))``.

    Attributes
    ----------
    floor
        Fixed at the benchmark's chance level.
    ceiling, k, L0
        Accuracy as L -> 0, steepness (nats^-1) and midpoint loss (nats).
    ceiling_stderr, k_stderr, L0_stderr
        Standard errors from lmfit's covariance; NaN when it cannot be estimated
        (typically a parameter at a bound, e.g. the ceiling at 1).
    covariance
        3x3 covariance of ``(ceiling, k, L0)`` (NaN if not estimated).
    n_points
        Runs fitted.
    rmse_points
        RMSE of the fitted runs, in accuracy points.
    lmfit_result
        The best start's ``lmfit.minimizer.MinimizerResult``.
    """

    floor: float
    ceiling: float
    k: float
    L0: float
    ceiling_stderr: float
    k_stderr: float
    L0_stderr: float
    covariance: np.ndarray
    n_points: int
    rmse_points: float
    lmfit_result: lmfit.minimizer.MinimizerResult

    def predict(self, loss: ArrayLike) -> np.ndarray:
        """Accuracy at loss L (computed with a stable logistic, no overflow)."""
        return _logistic(np.asarray(loss, dtype=float), self.ceiling, self.k, self.L0, self.floor)


def _logistic(loss: np.ndarray, ceiling: float, k: float, L0: float, floor: float) -> np.ndarray:
    """``floor + (ceiling - floor) * expit(-k (L - L0))``, i.e. ``... / (1 + exp(k (L - L0)))``."""
    return floor + (ceiling - floor) * expit(-k * (loss - L0))


def _logistic_profile(
    loss: np.ndarray, accuracy: np.ndarray, chance: float, k: np.ndarray, L0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best ceiling and residual sum of squares for every ``(k, L0)`` of a grid, in closed form.

    For fixed ``(k, L0)`` the map is linear in its height ``h = ceiling - chance``:
    ``acc - chance = h s`` with ``s = expit(-k (L - L0))``. The sum of squares is a
    parabola in ``h``, so its minimum within the ceiling's bounds is the unconstrained
    one, ``h = sum(s (acc - chance)) / sum(s^2)``, clipped to them. ``k`` and ``L0`` have
    the grid's shape; returns the ceilings and the sums of squares, of that shape.
    """
    s = expit(-k[..., None] * (loss - L0[..., None]))
    excess = accuracy - chance
    with np.errstate(divide="ignore", invalid="ignore"):
        height = np.sum(s * excess, axis=-1) / np.sum(s * s, axis=-1)
    height = np.clip(np.nan_to_num(height, nan=1.0 - chance), (accuracy.max() - chance) / 2, 1.0 - chance)
    sse = np.sum((height[..., None] * s - excess) ** 2, axis=-1)
    return chance + height, sse


def fit_logistic_map(
    loss: ArrayLike, accuracy: ArrayLike, *, chance: float, labels: Sequence[str] | None = None
) -> LogisticMapFit:
    """Fit the logistic map with its floor at chance: a closed-form profile, then one lmfit polish.

    Minimises the residual sum of squares in accuracy,
    :math:`\\sum_i (f + (c - f)\\,\\mathrm{expit}(-k (L_i - L_0)) - \\mathrm{acc}_i)^2`, within
    bounds: ``ceiling`` in ``[(chance + max acc) / 2, 1]`` (at most 1, and at least
    half-way from chance to the best observed score), ``k`` in
    :data:`LOGISTIC_K_BOUNDS`, ``L0`` within :data:`LOGISTIC_L0_MARGIN` nats of the
    fitted losses.

    The ceiling enters linearly: for every ``(k, L0)`` of the grid
    :data:`LOGISTIC_K_GRID` x (:data:`LOGISTIC_L0_GRID_POINTS` values of ``L0`` across its
    bounds) its best value is found in closed form (:func:`_logistic_profile`). Each of
    the lowest local minima of that profile (:func:`scalelib.laws.profile_fit.grid_local_minima`,
    at most :data:`LOGISTIC_POLISHED`, and only those within a factor
    :data:`scalelib.laws.profile_fit.POLISH_RATIO` of the lowest) is polished by ``lmfit.minimize`` (``leastsq``,
    analytic Jacobian); the lowest sum of squares wins, ties resolved in grid order. The
    grid makes the search global, the polish makes the result exact.

    Parameters
    ----------
    loss, accuracy
        Validation loss (nats) and raw accuracy, one per run.
    chance
        Chance level of the benchmark: the floor of the curve.
    labels
        Optional run ids for error messages.

    Returns
    -------
    LogisticMapFit
    """
    loss, accuracy = validate_map_inputs(loss, accuracy, chance=chance, n_parameters=3, labels=labels)
    L0_bounds = (loss.min() - LOGISTIC_L0_MARGIN, loss.max() + LOGISTIC_L0_MARGIN)
    k_grid, L0_grid = np.meshgrid(
        LOGISTIC_K_GRID, np.linspace(*L0_bounds, LOGISTIC_L0_GRID_POINTS), indexing="ij"
    )
    ceilings, sse = _logistic_profile(loss, accuracy, chance, k_grid, L0_grid)

    def residual(parameters: lmfit.Parameters) -> np.ndarray:
        return _logistic(
            loss, parameters["ceiling"].value, parameters["k"].value, parameters["L0"].value, chance
        ) - accuracy

    def jacobian(parameters: lmfit.Parameters) -> np.ndarray:
        ceiling, k, L0 = (parameters[name].value for name in ("ceiling", "k", "L0"))
        s = expit(-k * (loss - L0))
        slope = (ceiling - chance) * s * (1.0 - s)
        return np.column_stack([s, -slope * (loss - L0), slope * k])

    bounds = {
        "ceiling": ((chance + accuracy.max()) / 2, 1.0), "k": LOGISTIC_K_BOUNDS, "L0": L0_bounds,
    }
    parameters = lmfit.Parameters()
    for name, (low, high) in bounds.items():
        parameters.add(name, min=low, max=high)
    results = []
    for index in grid_local_minima(sse, LOGISTIC_POLISHED):
        if results and sse.flat[index] > POLISH_RATIO * min(result.chisqr for result in results):
            continue  # its basin's minimum cannot be below a polished optimum (POLISH_RATIO)
        start = (ceilings.flat[index], k_grid.flat[index], L0_grid.flat[index])
        for name, value in zip(("ceiling", "k", "L0"), start):
            low, high = bounds[name]
            # lmfit's bounded parameters cannot leave a start exactly at a bound: start just inside
            inside = np.clip((value - low) / (high - low), LOGISTIC_START_INSET, 1 - LOGISTIC_START_INSET)
            parameters[name].set(value=low + inside * (high - low))
        results.append(lmfit.minimize(
            residual, parameters, method="leastsq", Dfun=jacobian,
            ftol=LOGISTIC_TOLERANCE, xtol=LOGISTIC_TOLERANCE,
        ))
    best = results[int(first_lowest([result.chisqr for result in results]))]
    covariance = covariance_within_bounds(best)
    stderrs = np.sqrt(np.diag(covariance))
    values = best.params.valuesdict()
    fitted = _logistic(loss, values["ceiling"], values["k"], values["L0"], chance)
    return LogisticMapFit(
        floor=chance,
        ceiling=float(values["ceiling"]), k=float(values["k"]), L0=float(values["L0"]),
        ceiling_stderr=float(stderrs[0]), k_stderr=float(stderrs[1]), L0_stderr=float(stderrs[2]),
        covariance=covariance, n_points=len(loss),
        rmse_points=_rmse_points(fitted, accuracy), lmfit_result=best,
    )
