"""Stage 2 of the two-stage forecast: benchmark accuracy as a function of validation loss.

Four maps from loss :math:`L` (nats per token) to raw accuracy, each fitted per
benchmark by least squares in accuracy space and returning a result with
``.predict(loss)``:

* **linear** (:func:`fit_linear_map`): :math:`\\mathrm{acc} = a + b L`, by ordinary least
  squares on every run;
* **logistic** (:func:`fit_logistic_map`):

  .. math::

      \\mathrm{acc} = f + \\frac{c - f}{1 + \\exp\\big(k (L - L_0)\\big)},

  with the floor :math:`f` fixed at the benchmark's chance level, the ceiling
  :math:`c \\le 1`, the steepness :math:`k > 0` and the midpoint :math:`L_0` fitted with
  lmfit within bounds, from the best points of a closed-form profile over ``(k, L0)``;
* **FLP** (:func:`fit_flp_map`), the rule of Chen et al. (2024): the linear map, fitted
  only on the runs past the *emergence point* (:func:`emerged_runs`), where accuracy
  has risen clearly above chance, so that the flat pre-emergence runs do not bend the
  line;
* **FLP-M** (:func:`fit_flp_m_map`), their multi-domain variant: the three domain
  losses (C4, DCLM, FineWeb) mapped to accuracy by a small network. Here it is a
  random-feature network fitted in closed form (:mod:`scalelib.small_network`), an
  ensemble over a fixed set of seeds (:data:`FLP_M_SEEDS`) whose mean is the forecast
  and whose spread says how much the answer depends on the seed. Chen et al. train a
  multi-layer network by gradient descent; on a few dozen runs that training reaches a
  different network on every CPU (see the module :mod:`scalelib.small_network`).

Every map takes ``(loss, accuracy, *, chance, labels)``, the signature
:func:`scalelib.per_benchmark.fit_law_by_benchmark` passes (with the loss column as
``compute_column``); FLP-M takes a two-dimensional array of losses, one column per
validation set. Inputs are checked by :func:`validate_map_inputs`, which raises
:class:`~scalelib.normalise.ScalingDataError` naming the offending runs. Unlike the
direct law, the maps fit raw accuracy and accept runs at or below chance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import lmfit
import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from scalelib.loss_law import covariance_within_bounds
from scalelib.normalise import ScalingDataError, describe_points, covariance_from_jacobian
from scalelib.profile_fit import POLISH_RATIO, first_lowest, grid_local_minima
from scalelib.small_network import HIDDEN_UNITS, SmallNetwork, fit_small_network

__all__ = [
    "DEFAULT_EMERGENCE_MARGIN",
    "FLP_M_SEEDS",
    "LOGISTIC_K_BOUNDS",
    "LOGISTIC_L0_MARGIN",
    "LOGISTIC_K_GRID",
    "LOGISTIC_L0_GRID_POINTS",
    "LOGISTIC_POLISHED",
    "LOGISTIC_START_INSET",
    "LOGISTIC_TOLERANCE",
    "FlpMFit",
    "LinearMapFit",
    "LogisticMapFit",
    "emerged_runs",
    "fit_flp_m_map",
    "fit_flp_map",
    "fit_linear_map",
    "fit_logistic_map",
    "validate_map_inputs",
]

DEFAULT_EMERGENCE_MARGIN = 0.05
"""Accuracy above chance (raw accuracy, 0.05 = 5 points) that counts as emerged for FLP."""

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

FLP_M_SEEDS = tuple(range(5))
"""Seeds of the FLP-M ensemble: five networks, each with its own random hidden layer;
the forecast is their mean."""


def validate_map_inputs(
    loss: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    n_parameters: int,
    loss_dimensions: int = 1,
    labels: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Check the inputs of a loss-to-accuracy map and return them as float arrays.

    Parameters
    ----------
    loss
        Validation losses (nats), shape ``(n,)``, or ``(n, m)`` for m validation sets.
    accuracy
        Raw accuracy in [0, 1], shape ``(n,)``.
    chance
        Chance accuracy of the benchmark, in [0, 1).
    n_parameters
        Parameters of the map; at least ``n_parameters + 1`` runs are needed.
    loss_dimensions
        1 for one loss per run, 2 for several validation sets per run (FLP-M).
    labels
        Optional run ids, used to name offending runs in error messages.

    Raises
    ------
    ScalingDataError
        On losses of the wrong dimension, mismatched lengths, NaN or non-positive loss, NaN accuracy or accuracy outside
        [0, 1], a chance level outside [0, 1), or too few runs.
    """
    loss = np.asarray(loss, dtype=float)
    accuracy = np.asarray(accuracy, dtype=float).ravel()
    if loss.ndim != loss_dimensions:
        expected = "one loss per run" if loss_dimensions == 1 else "a 2-d array of losses (runs x validation sets)"
        raise ScalingDataError(f"This map takes {expected}, got losses of shape {loss.shape}.")
    if len(loss) != len(accuracy) or (labels is not None and len(labels) != len(loss)):
        raise ScalingDataError(
            f"Mismatched inputs: losses of shape {loss.shape}, {len(accuracy)} accuracies"
            + ("" if labels is None else f" and {len(labels)} labels") + "."
        )
    if not 0.0 <= chance < 1.0:
        raise ScalingDataError(f"Chance level must lie in [0, 1), got {chance}.")
    bad_loss = ~np.isfinite(loss) | (loss <= 0)
    if bad_loss.ndim == 2:
        bad_loss = bad_loss.any(axis=1)
    if bad_loss.any():
        raise ScalingDataError(f"NaN, infinite or non-positive loss at {describe_points(bad_loss, labels)}.")
    bad_accuracy = ~np.isfinite(accuracy) | (accuracy < 0) | (accuracy > 1)
    if bad_accuracy.any():
        raise ScalingDataError(f"Accuracy NaN or outside [0, 1] at {describe_points(bad_accuracy, labels)}.")
    if len(accuracy) <= n_parameters:
        raise ScalingDataError(
            f"Too few runs: {len(accuracy)} given, but this map has {n_parameters} parameters "
            f"and needs at least {n_parameters + 1}."
        )
    return loss, accuracy


def _rmse_points(fitted: np.ndarray, accuracy: np.ndarray) -> float:
    """Root-mean-square error of fitted accuracies, in accuracy points (x 100)."""
    return float(100.0 * np.sqrt(np.mean((fitted - accuracy) ** 2)))


@dataclass(frozen=True, eq=False)
class LinearMapFit:
    """Result of :func:`fit_linear_map` or :func:`fit_flp_map`: ``acc = a + b L``.

    Attributes
    ----------
    a, b
        Intercept (accuracy at L = 0) and slope (accuracy per nat; negative when
        accuracy rises as loss falls).
    a_stderr, b_stderr
        Standard errors from the OLS covariance.
    covariance
        2x2 covariance of ``(a, b)``.
    emergence_loss
        Runs with loss above it were left out (FLP); ``inf`` when every run was fitted.
    n_points
        Runs fitted.
    rmse_points
        RMSE of the fitted runs, in accuracy points.
    """

    a: float
    b: float
    a_stderr: float
    b_stderr: float
    covariance: np.ndarray
    emergence_loss: float
    n_points: int
    rmse_points: float

    def predict(self, loss: ArrayLike) -> np.ndarray:
        """Accuracy ``a + b L`` at loss L (not clipped to [0, 1])."""
        return self.a + self.b * np.asarray(loss, dtype=float)


def fit_linear_map(
    loss: ArrayLike, accuracy: ArrayLike, *, chance: float, labels: Sequence[str] | None = None
) -> LinearMapFit:
    """Fit ``acc = a + b L`` by ordinary least squares on every run.

    Parameters
    ----------
    loss, accuracy
        Validation loss (nats) and raw accuracy, one per run.
    chance
        Chance level; only validated (the line has no floor).
    labels
        Optional run ids for error messages.

    Returns
    -------
    LinearMapFit
        With ``emergence_loss = inf``; covariance ``s^2 (X^T X)^-1``.
    """
    loss, accuracy = validate_map_inputs(loss, accuracy, chance=chance, n_parameters=2, labels=labels)
    design = np.column_stack([np.ones_like(loss), loss])
    (a, b), *_ = np.linalg.lstsq(design, accuracy, rcond=None)
    fitted = design @ np.array([a, b])
    covariance = covariance_from_jacobian(design, accuracy - fitted)
    a_stderr, b_stderr = np.sqrt(np.diag(covariance))
    return LinearMapFit(
        a=float(a), b=float(b), a_stderr=float(a_stderr), b_stderr=float(b_stderr),
        covariance=covariance, emergence_loss=np.inf, n_points=len(loss),
        rmse_points=_rmse_points(fitted, accuracy),
    )


def emerged_runs(loss: ArrayLike, accuracy: ArrayLike, *, chance: float, margin: float) -> np.ndarray:
    """Which runs lie past the emergence point (FLP's fitting set).

    The emergence point is the largest loss :math:`L_e` such that *every* run with
    :math:`L \\le L_e` scores above ``chance + margin``. Runs with :math:`L \\le L_e` are
    past it. A single small run that happens to score above the threshold, followed by
    larger runs below it, is therefore not counted as emerged.

    Parameters
    ----------
    loss, accuracy
        One validation loss and one raw accuracy per run.
    chance
        Chance level of the benchmark.
    margin
        How far above chance (raw accuracy, e.g. 0.05 = 5 points) counts as emerged.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True for the runs past the emergence point (all False if the
        lowest-loss run is not above the threshold).
    """
    loss = np.asarray(loss, dtype=float)
    above = np.asarray(accuracy, dtype=float) > chance + margin
    order = np.argsort(loss, kind="stable")
    past = np.empty(len(loss), dtype=bool)
    past[order] = np.logical_and.accumulate(above[order])
    return past


def fit_flp_map(
    loss: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    emergence_margin: float = DEFAULT_EMERGENCE_MARGIN,
    labels: Sequence[str] | None = None,
) -> LinearMapFit:
    """FLP's stage 2 (Chen et al. 2024): ``acc = a + b L`` fitted past the emergence point only.

    Parameters
    ----------
    loss, accuracy
        Validation loss (nats) and raw accuracy, one per run.
    chance
        Chance level of the benchmark.
    emergence_margin
        Accuracy above chance that counts as emerged (see :func:`emerged_runs`).
    labels
        Optional run ids for error messages.

    Returns
    -------
    LinearMapFit
        Fitted on the emerged runs; ``emergence_loss`` is the largest loss among them.

    Raises
    ------
    ScalingDataError
        If fewer than three runs are past the emergence point (the message names them).
    """
    loss, accuracy = validate_map_inputs(loss, accuracy, chance=chance, n_parameters=2, labels=labels)
    past = emerged_runs(loss, accuracy, chance=chance, margin=emergence_margin)
    if past.sum() < 3:
        named = describe_points(past, labels) if past.any() else "no run"
        raise ScalingDataError(
            f"Too few runs past the emergence point (accuracy > chance + {emergence_margin:g} for "
            f"every lower loss): {named}; FLP needs at least 3."
        )
    fit = fit_linear_map(
        loss[past], accuracy[past], chance=chance,
        labels=None if labels is None else [label for label, keep in zip(labels, past) if keep],
    )
    return replace(fit, emergence_loss=float(loss[past].max()))


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
    the lowest local minima of that profile (:func:`scalelib.profile_fit.grid_local_minima`,
    at most :data:`LOGISTIC_POLISHED`, and only those within a factor
    :data:`scalelib.profile_fit.POLISH_RATIO` of the lowest) is polished by ``lmfit.minimize`` (``leastsq``,
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
    results = []
    minima = grid_local_minima(sse, LOGISTIC_POLISHED)
    for index in minima[sse.flat[minima] <= POLISH_RATIO * sse.flat[minima[0]]]:
        parameters = lmfit.Parameters()
        for name, grid in (("ceiling", ceilings), ("k", k_grid), ("L0", L0_grid)):
            low, high = bounds[name]
            # lmfit's bounded parameters cannot leave a start exactly at a bound: start just inside
            inside = np.clip((grid.flat[index] - low) / (high - low), LOGISTIC_START_INSET, 1 - LOGISTIC_START_INSET)
            parameters.add(name, value=low + inside * (high - low), min=low, max=high)
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


@dataclass(frozen=True, eq=False)
class FlpMFit:
    """Result of :func:`fit_flp_m_map`: an ensemble of small networks from domain losses to accuracy.

    Attributes
    ----------
    networks
        One :class:`~scalelib.small_network.SmallNetwork` per seed.
    n_points
        Runs fitted.
    rmse_points
        RMSE of the ensemble's fit to the runs, in accuracy points.

    A network has no interpretable parameters and the library reports no standard errors
    for it; :meth:`predict_each` shows how far the seeds disagree.
    """

    networks: tuple[SmallNetwork, ...]
    n_points: int
    rmse_points: float

    def predict_each(self, losses: ArrayLike) -> np.ndarray:
        """Accuracy predicted by each network, shape ``(seeds, n)``; losses of shape ``(n, m)``."""
        return np.stack([network.predict(losses) for network in self.networks])

    def predict(self, losses: ArrayLike) -> np.ndarray:
        """The ensemble's accuracy: the mean over seeds, for losses of shape ``(n, m)`` (columns as fitted)."""
        return self.predict_each(losses).mean(axis=0)


def fit_flp_m_map(
    losses: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    hidden_units: int = HIDDEN_UNITS,
    seeds: Sequence[int] = FLP_M_SEEDS,
    labels: Sequence[str] | None = None,
) -> FlpMFit:
    """FLP-M's stage 2 (after Chen et al. 2024): domain losses -> accuracy with small networks.

    One random-feature network per seed (:func:`scalelib.small_network.fit_small_network`:
    a fixed random tanh layer on standardised losses, an output layer fitted by ridge
    regression with its penalty chosen by leave-one-out on the fitted runs); the forecast
    is the ensemble mean,

    .. math::

        \\widehat{\\mathrm{acc}}(L) = \\frac{1}{S} \\sum_{s=1}^{S} g_s(L),

    with :math:`g_s` the network of seed :math:`s`. Each network is the unique optimum of
    a convex problem, so the same data and seeds give the same forecast on any CPU.

    Parameters
    ----------
    losses
        Shape ``(n, m)``: one row per run, one column per validation set.
    accuracy
        Raw accuracy, one per run.
    chance
        Chance level; only validated.
    hidden_units
        Random features per network.
    seeds
        Seeds of the ensemble's random layers (at least one).
    labels
        Optional run ids for error messages.

    Returns
    -------
    FlpMFit
    """
    losses, accuracy = validate_map_inputs(
        losses, accuracy, chance=chance, n_parameters=2, loss_dimensions=2, labels=labels
    )
    if len(seeds) == 0:
        raise ValueError("FLP-M needs at least one seed.")
    networks = tuple(fit_small_network(losses, accuracy, seed=seed, hidden_units=hidden_units) for seed in seeds)
    fitted = np.mean([network.predict(losses) for network in networks], axis=0)
    return FlpMFit(networks=networks, n_points=len(accuracy), rmse_points=_rmse_points(fitted, accuracy))
