"""The input checks every loss-to-accuracy map shares (:mod:`scalelib.laws.loss_to_accuracy`).

:func:`validate_map_inputs` checks losses, accuracies, chance and the number of runs, and
raises :class:`~scalelib.data.normalise.ScalingDataError` naming the offending runs; every
map reports its fit's RMSE in accuracy points the same way. Every public name here is importable from :mod:`scalelib.laws.loss_to_accuracy` too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from scalelib.data.normalise import ScalingDataError, describe_points

__all__ = ["validate_map_inputs"]


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
