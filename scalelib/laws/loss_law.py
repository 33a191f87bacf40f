"""Stage 1 of the two-stage forecast: validation loss as a power law in compute.

.. math::

    L(C) = A \\, C^{-\\alpha} \\quad \\text{(pure power law)}, \\qquad
    L(C) = E + A \\, C^{-\\alpha} \\quad \\text{(with an irreducible loss } E\\text{)},

the classical compute scaling law of the pre-training loss
(Kaplan et al. 2020; Hoffmann et al. 2022), fitted to the runs of one mixture at one
tokens-per-parameter ratio. :math:`L` is a per-token cross-entropy in nats on one of the
three released validation sets (C4, DCLM, FineWeb). By default a mixture is fitted on
*its own* validation set (:func:`own_validation_set`): the loss on text like the
training data is the one the training run minimises, so it is the cleanest measure of
how far training has gone; the other two are available through ``validation_set``.

The fit is a least-squares fit of the losses in nats with lmfit, parametrised by
:math:`\\log A_{\\mathrm{ref}}` at :data:`~scalelib.data.normalise.REFERENCE_COMPUTE` so the
problem is well-conditioned. For a fixed exponent the law is linear in :math:`(E, A)`,
so lmfit starts from the best point of a profile: on every exponent of
:data:`ALPHA_GRID`, :math:`E` and :math:`A` in closed form (least squares, :math:`E`
held within its bounds), one array computation.
Results are reported in the usual convention (:math:`A` at C = 1 FLOP), with standard
errors from lmfit's covariance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import lmfit
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.data.benchmark_info import VALIDATION_SETS
from scalelib.data.normalise import (
    ScalingDataError,
    describe_points,
    log_compute_offset,
    uncentre_amplitude,
)
from scalelib.laws.profile_fit import first_lowest

__all__ = [
    "ALPHA_GRID",
    "LossLawFit",
    "covariance_within_bounds",
    "fit_loss_law",
    "fit_loss_laws",
    "loss_column",
    "loss_law_table",
    "own_validation_set",
]

ALPHA_BOUNDS = (0.0, 2.0)
"""Bounds of the exponent alpha."""

ALPHA_GRID = np.concatenate([[0.0], np.geomspace(1e-3, ALPHA_BOUNDS[1], 60)])
"""Exponents at which ``(E, A)`` are profiled: 0, then 60 log-spaced values (14% apart)."""


def own_validation_set(mixture: str) -> str:
    """The validation set made of the mixture's own kind of text: ``"dclm"`` or ``"c4"``."""
    if mixture not in VALIDATION_SETS:
        raise ValueError(f"mixture {mixture!r} has no validation set of its own; known: {VALIDATION_SETS}")
    return mixture


def loss_column(validation_set: str) -> str:
    """Column of :func:`scalelib.data.released.load_runs` holding a validation set's loss, e.g. ``loss_dclm``."""
    if validation_set not in VALIDATION_SETS:
        raise ValueError(f"unknown validation set {validation_set!r}; choose one of {VALIDATION_SETS}")
    return f"loss_{validation_set}"


@dataclass(frozen=True, eq=False)
class LossLawFit:
    """Result of :func:`fit_loss_law`: ``L = E + A C^(-alpha)`` (E = 0 for the pure power law).

    Attributes
    ----------
    E, A, alpha
        Irreducible loss (nats; exactly 0 for the pure power law), amplitude at
        C = 1 FLOP and exponent.
    E_stderr, A_stderr, alpha_stderr
        Standard errors (``A_stderr`` by the delta method, ``A * stderr(log A)``);
        ``E_stderr`` is 0 for the pure power law, where E is fixed; NaN where lmfit
        cannot estimate them (a parameter at its bound).
    covariance
        Covariance of ``(log A, alpha)`` (pure) or ``(log A, alpha, E)`` (irreducible).
    irreducible
        Whether E was fitted.
    n_points
        Number of runs fitted.
    rmse
        Root-mean-square residual of the fitted loss, in nats.
    lmfit_result
        The ``lmfit.minimizer.MinimizerResult`` of the best start (``lmfit.fit_report``).
    """

    E: float
    A: float
    alpha: float
    E_stderr: float
    A_stderr: float
    alpha_stderr: float
    covariance: np.ndarray
    irreducible: bool
    n_points: int
    rmse: float
    lmfit_result: lmfit.minimizer.MinimizerResult

    def predict(self, compute: ArrayLike) -> np.ndarray:
        """Loss predicted at compute C: ``E + A C^(-alpha)``, in nats."""
        return self.E + np.exp(np.log(self.A) - self.alpha * np.log(np.asarray(compute, dtype=float)))


def covariance_within_bounds(result: lmfit.minimizer.MinimizerResult) -> np.ndarray:
    """lmfit's covariance of the varied parameters, NaN for any parameter at one of its bounds.

    lmfit maps bounded parameters to an unbounded internal variable; at a bound that map
    is flat, so the covariance there depends on the optimiser's path, not on the data.
    The rows and columns of such parameters (and the whole matrix if lmfit could not
    estimate it) are set to NaN. Order: ``result.var_names``.
    """
    n_varied = len(result.var_names)
    if result.covar is None:
        return np.full((n_varied, n_varied), np.nan)
    covariance = np.array(result.covar, dtype=float)
    for index, name in enumerate(result.var_names):
        parameter = result.params[name]
        scale = max(abs(parameter.value), 1.0)
        if min(abs(parameter.value - parameter.min), abs(parameter.value - parameter.max)) <= 1e-6 * scale:
            covariance[index, :] = covariance[:, index] = np.nan
    return covariance


def _loss_model(log_compute_offset: np.ndarray, log_A_ref: float, alpha: float, E: float) -> np.ndarray:
    """``E + A_ref (C / C_ref)^(-alpha)``, with ``log_compute_offset = log(C / C_ref)``."""
    return E + np.exp(log_A_ref - alpha * log_compute_offset)


def _profile_start(x: np.ndarray, loss: np.ndarray, irreducible: bool) -> tuple[float, float, float]:
    """The best ``(log A_ref, alpha, E)`` over :data:`ALPHA_GRID`, with ``(E, A_ref)`` in closed form.

    For each exponent, ``L = E + A_ref p`` with ``p = exp(-alpha x)`` is a straight line in
    ``p``: least squares gives ``(E, A_ref)``; an ``E`` outside ``[0, min L]`` (or E = 0
    for the pure power law) is held at its bound and ``A_ref`` refitted.
    """
    power = np.exp(-ALPHA_GRID[:, None] * x[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        if irreducible:
            power_mean = power.mean(axis=1, keepdims=True)
            centred = power - power_mean
            amplitude = np.sum(centred * (loss - loss.mean()), axis=1) / np.sum(centred**2, axis=1)
            floor = np.clip(loss.mean() - amplitude * power_mean[:, 0], 0.0, loss.min())
        else:
            floor = np.zeros(len(ALPHA_GRID))
        amplitude = np.sum(power * (loss - floor[:, None]), axis=1) / np.sum(power**2, axis=1)
        amplitude = np.maximum(amplitude, 1e-300)
        sse = np.sum((floor[:, None] + amplitude[:, None] * power - loss) ** 2, axis=1)
    best = int(first_lowest(np.where(np.isfinite(sse), sse, np.inf)))
    return float(np.log(amplitude[best])), float(ALPHA_GRID[best]), float(floor[best])


def _validate_loss_inputs(
    compute: ArrayLike, loss: ArrayLike, *, n_parameters: int, labels: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Check compute and loss (1-d, same length, finite, positive, enough points); return float arrays."""
    compute = np.asarray(compute, dtype=float).ravel()
    loss = np.asarray(loss, dtype=float).ravel()
    if len(compute) != len(loss) or (labels is not None and len(labels) != len(compute)):
        raise ScalingDataError(
            f"Mismatched lengths: {len(compute)} compute values and {len(loss)} losses"
            + ("" if labels is None else f" and {len(labels)} labels") + "."
        )
    for name, values in (("compute", compute), ("loss", loss)):
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            raise ScalingDataError(
                f"Non-positive, NaN or infinite {name} at {describe_points(bad, labels)}; "
                f"every {name} must be a positive number."
            )
    if len(compute) <= n_parameters:
        raise ScalingDataError(
            f"Too few runs: {len(compute)} given, but this loss law has {n_parameters} parameters "
            f"and needs at least {n_parameters + 1} runs (one residual degree of freedom)."
        )
    return compute, loss


def fit_loss_law(
    compute: ArrayLike,
    loss: ArrayLike,
    *,
    irreducible: bool = True,
    labels: Sequence[str] | None = None,
) -> LossLawFit:
    """Fit ``L = E + A C^(-alpha)`` (or ``L = A C^(-alpha)``) to validation losses.

    Parameters
    ----------
    compute
        Training compute C in FLOPs, one per run.
    loss
        Validation loss in nats per token, one per run.
    irreducible
        Fit the irreducible loss E (bounded to ``[0, min(loss)]``); if False, E = 0 (the
        pure power law, a straight line in log-log axes). lmfit starts from the best
        point of the closed-form profile over the exponent.
    labels
        Optional run ids naming offending points in error messages.

    Returns
    -------
    LossLawFit

    Raises
    ------
    ScalingDataError
        On mismatched lengths, NaN, non-positive compute or loss, or fewer runs than
        parameters + 1.
    """
    n_parameters = 3 if irreducible else 2
    compute, loss = _validate_loss_inputs(compute, loss, n_parameters=n_parameters, labels=labels)
    x = log_compute_offset(compute)

    def residual(parameters: lmfit.Parameters) -> np.ndarray:
        return _loss_model(x, parameters["log_A_ref"].value, parameters["alpha"].value, parameters["E"].value) - loss

    log_A_start, alpha_start, E_start = _profile_start(x, loss, irreducible)
    parameters = lmfit.Parameters()
    parameters.add("log_A_ref", value=log_A_start)
    parameters.add("alpha", value=alpha_start, min=ALPHA_BOUNDS[0], max=ALPHA_BOUNDS[1])
    if irreducible:
        parameters.add("E", value=E_start, min=0.0, max=loss.min())
    else:
        parameters.add("E", value=0.0, vary=False)
    best = lmfit.minimize(residual, parameters, method="leastsq")
    values = best.params.valuesdict()
    # lmfit orders the varied parameters as the model's arguments: (log A_ref, alpha[, E]).
    covariance = covariance_within_bounds(best)
    at_bound = np.isnan(np.diag(covariance))
    log_A, covariance = uncentre_amplitude(values["log_A_ref"], values["alpha"], np.nan_to_num(covariance))
    at_bound[0] |= at_bound[1]  # log A = log A_ref + alpha log C_ref inherits alpha's NaN
    covariance[at_bound, :] = covariance[:, at_bound] = np.nan
    stderrs = np.sqrt(np.diag(covariance))
    return LossLawFit(
        E=float(values["E"]),
        A=float(np.exp(log_A)),
        alpha=float(values["alpha"]),
        E_stderr=float(stderrs[2]) if irreducible else 0.0,
        A_stderr=float(np.exp(log_A) * stderrs[0]),
        alpha_stderr=float(stderrs[1]),
        covariance=covariance,
        irreducible=irreducible,
        n_points=len(compute),
        rmse=float(np.sqrt(np.mean(best.residual**2))),
        lmfit_result=best,
    )


def fit_loss_laws(
    runs: pd.DataFrame,
    *,
    irreducible: bool = True,
    validation_set: str | None = None,
    tpr: float | None = 20,
) -> dict[str, LossLawFit]:
    """Fit :func:`fit_loss_law` to each mixture of a runs table.

    Parameters
    ----------
    runs
        :func:`scalelib.data.released.load_runs` (or a subset: e.g. the runs below a compute cut).
    irreducible
        Passed to :func:`fit_loss_law`.
    validation_set
        ``"c4"``, ``"dclm"`` or ``"fineweb"``; None (default) fits each mixture on its
        own validation set (:func:`own_validation_set`).
    tpr
        Fit only the runs of this nominal tokens-per-parameter ratio (None: all runs).

    Returns
    -------
    dict
        ``{mixture: LossLawFit}``.
    """
    if tpr is not None:
        runs = runs[runs["tpr"] == tpr]
    fits = {}
    for mixture, rows in runs.groupby("mixture", sort=False):
        column = loss_column(validation_set or own_validation_set(mixture))
        fits[mixture] = fit_loss_law(
            rows["flops"].to_numpy(), rows[column].to_numpy(), irreducible=irreducible,
            labels=rows["run"].tolist(),
        )
    return fits


def loss_law_table(fits: dict[str, LossLawFit]) -> pd.DataFrame:
    """The parameters of :func:`fit_loss_laws` results, one row per mixture."""
    fields = ["E", "E_stderr", "A", "A_stderr", "alpha", "alpha_stderr", "n_points", "rmse"]
    return pd.DataFrame(
        [{"mixture": mixture, **{name: getattr(fit, name) for name in fields}} for mixture, fit in fits.items()]
    ).set_index("mixture")
