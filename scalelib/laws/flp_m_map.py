"""FLP-M's stage 2 (after Chen et al. 2024): the domain losses mapped to accuracy by small networks.

The three domain losses (C4, DCLM, FineWeb) of each run go through a random-feature
network fitted in closed form (:mod:`scalelib.laws.small_network`), an ensemble over a fixed
set of seeds (:data:`FLP_M_SEEDS`) whose mean is the forecast and whose spread says how
much the answer depends on the seed (:func:`fit_flp_m_map`). One of the four maps of
:mod:`scalelib.laws.loss_to_accuracy`; every public name here is importable from :mod:`scalelib.laws.loss_to_accuracy` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from scalelib.laws.map_inputs import _rmse_points, validate_map_inputs
from scalelib.laws.small_network import HIDDEN_UNITS, SmallNetwork, fit_small_network

__all__ = ["FLP_M_SEEDS", "FlpMFit", "fit_flp_m_map"]

FLP_M_SEEDS = tuple(range(5))
"""Seeds of the FLP-M ensemble: five networks, each with its own random hidden layer;
the forecast is their mean."""


@dataclass(frozen=True, eq=False)
class FlpMFit:
    """Result of :func:`fit_flp_m_map`: an ensemble of small networks from domain losses to accuracy.

    Attributes
    ----------
    networks
        One :class:`~scalelib.laws.small_network.SmallNetwork` per seed.
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

    One random-feature network per seed (:func:`scalelib.laws.small_network.fit_small_network`:
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
