"""Stage 2 of the two-stage forecast: benchmark accuracy as a function of validation loss.

Four maps from loss :math:`L` (nats per token) to raw accuracy, each fitted per
benchmark by least squares in accuracy space and returning a result with
``.predict(loss)``:

* **linear** (:func:`fit_linear_map`): :math:`\\mathrm{acc} = a + b L`, by ordinary least
  squares on every run;
* **logistic** (:func:`~scalelib.laws.logistic_map.fit_logistic_map`):

  .. math::

      \\mathrm{acc} = f + \\frac{c - f}{1 + \\exp\\big(k (L - L_0)\\big)},

  with the floor :math:`f` fixed at the benchmark's chance level, the ceiling
  :math:`c \\le 1`, the steepness :math:`k > 0` and the midpoint :math:`L_0` fitted with
  lmfit within bounds, from the best points of a closed-form profile over ``(k, L0)``;
* **FLP** (:func:`fit_flp_map`), the rule of Chen et al. (2024): the linear map, fitted
  only on the runs past the *emergence point* (:func:`emerged_runs`), where accuracy
  has risen clearly above chance, so that the flat pre-emergence runs do not bend the
  line;
* **FLP-M** (:func:`~scalelib.laws.flp_m_map.fit_flp_m_map`), their multi-domain variant: the three domain
  losses (C4, DCLM, FineWeb) mapped to accuracy by a small network. Here it is a
  random-feature network fitted in closed form (:mod:`scalelib.laws.small_network`), an
  ensemble over a fixed set of seeds (:data:`~scalelib.laws.flp_m_map.FLP_M_SEEDS`) whose mean is the forecast
  and whose spread says how much the answer depends on the seed. Chen et al. train a
  multi-layer network by gradient descent; on a few dozen runs that training reaches a
  different network on every CPU (see the module :mod:`scalelib.laws.small_network`).

Every map takes ``(loss, accuracy, *, chance, labels)``, the signature
:func:`scalelib.evaluation.per_benchmark.fit_law_by_benchmark` passes (with the loss column as
``compute_column``); FLP-M takes a two-dimensional array of losses, one column per
validation set. Inputs are checked by :func:`~scalelib.laws.map_inputs.validate_map_inputs`, which raises
:class:`~scalelib.data.normalise.ScalingDataError` naming the offending runs. Unlike the
direct law, the maps fit raw accuracy and accept runs at or below chance.

This module holds the linear and FLP maps; the others live in modules of their own, and
their public names are importable from here too: the logistic map in
:mod:`scalelib.laws.logistic_map`, FLP-M in :mod:`scalelib.laws.flp_m_map`, and the input checks
every map shares in :mod:`scalelib.laws.map_inputs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from scalelib.laws.flp_m_map import FLP_M_SEEDS, FlpMFit, fit_flp_m_map
from scalelib.laws.logistic_map import (
    LOGISTIC_K_BOUNDS,
    LOGISTIC_K_GRID,
    LOGISTIC_L0_GRID_POINTS,
    LOGISTIC_L0_MARGIN,
    LOGISTIC_POLISHED,
    LOGISTIC_START_INSET,
    LOGISTIC_TOLERANCE,
    LogisticMapFit,
    fit_logistic_map,
)
from scalelib.laws.map_inputs import _rmse_points, validate_map_inputs
from scalelib.data.normalise import ScalingDataError, covariance_from_jacobian, describe_points

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
