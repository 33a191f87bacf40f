"""The broken neural scaling law (BNSL) with one break, Eq. 1 of Krajewski et al. (2025).

From Caballero et al. (2022), "Broken Neural Scaling Laws", fitted here to the
negative log of the chance-normalised accuracy:

.. math::

    y = -\\log Q = a + b\\, C^{-c_0}
        \\left(1 + (C / d_1)^{1 / f_1}\\right)^{-c_1 f_1},

a power law of exponent :math:`c_0` below the break :math:`d_1` that bends, with
sharpness :math:`f_1`, to exponent :math:`c_0 + c_1` above it, on top of a floor
:math:`a` (ceiling accuracy ``chance + (1 - chance) exp(-a)``).

The fit minimises the same objective as the saturating law: the Huber loss
(delta = 1e-3) of the log residuals :math:`\\log \\hat y - \\log y`. It is
parametrised for conditioning as

``(a, log b_ref, c0, c0 + c1, log(d1 / C_ref), log f1)``,

with :math:`C_{\\mathrm{ref}}` = :data:`~scalelib.data.normalise.REFERENCE_COMPUTE` and
:math:`b_{\\mathrm{ref}} = b\\, C_{\\mathrm{ref}}^{-c_0}`, within the bounds
``a >= 0``, ``0 <= c0 <= 5``, ``0 <= c0 + c1 <= 5`` (both slopes non-negative, so
the predicted accuracy never falls with compute), ``f1`` in [0.1, 10] and the break
within one decade of the fitted compute range (a break further out cannot be
located by the data).

This module is the law as the library's consumers see it, :data:`BNSL_LAW`, with
:func:`bnsl_forecaster`; its parts live in two modules, and their public names are
importable from here too:

* :mod:`scalelib.laws.bnsl_equation` -- Eq. 1 in its fitted parametrisation: value, log
  residuals, Jacobian and bounds;
* :mod:`scalelib.laws.bnsl_fit` -- the robust global fit :func:`~scalelib.laws.bnsl_fit.fit_bnsl` (a
  search over two grids, then a polish) and its result :class:`~scalelib.laws.bnsl_fit.BNSLFit`.
"""

from __future__ import annotations

from scalelib.interfaces import Forecaster, law_forecaster
from scalelib.laws.bnsl_equation import (
    MAX_SLOPE,
    N_PARAMETERS,
    SHARPNESS_BOUNDS,
    _terms,  # noqa: F401 (benchmarks/fast_bnsl.py imports it from here)
    bnsl_bounds,
    bnsl_log_residuals,
    bnsl_log_residuals_jacobian,
    bnsl_neg_log_q,
)
from scalelib.laws.bnsl_fit import (
    BOUND_SNAP,
    DISTINCT_TOLERANCE,
    FINAL_TOLERANCE,
    FLOOR_GRID,
    LOG_LINEAR_ITERATIONS,
    N_BREAK_GRID,
    N_CANDIDATES,
    N_LOG_LINEAR_STARTS,
    N_OUTER_BREAKS,
    N_POLISHED,
    N_PROFILE_STARTS,
    SCREEN_EVALUATIONS,
    SHARPNESS_GRID,
    SLOPE_GRID,
    BNSLFit,
    bnsl_profile,
    fit_bnsl,
)
from scalelib.interfaces import Law, centred_log_compute, fit_compute_law_to_rows, optimized_parameters


__all__ = [
    "N_PARAMETERS",
    "SHARPNESS_BOUNDS",
    "MAX_SLOPE",
    "SLOPE_GRID",
    "SHARPNESS_GRID",
    "N_BREAK_GRID",
    "FLOOR_GRID",
    "N_OUTER_BREAKS",
    "LOG_LINEAR_ITERATIONS",
    "N_PROFILE_STARTS",
    "N_LOG_LINEAR_STARTS",
    "N_CANDIDATES",
    "SCREEN_EVALUATIONS",
    "N_POLISHED",
    "BOUND_SNAP",
    "FINAL_TOLERANCE",
    "DISTINCT_TOLERANCE",
    "BNSLFit",
    "bnsl_neg_log_q",
    "bnsl_log_residuals",
    "bnsl_log_residuals_jacobian",
    "bnsl_bounds",
    "bnsl_profile",
    "fit_bnsl",
    "bnsl_forecaster",
    "BNSL_LAW",
]


def bnsl_forecaster(*, compute_column: str = "flops") -> Forecaster:
    """A :func:`scalelib.evaluation.backtest.backtest` forecaster fitting Eq. 1 with :func:`~scalelib.laws.bnsl_fit.fit_bnsl`."""
    return law_forecaster(fit_bnsl, compute_column=compute_column)


BNSL_LAW = Law(
    name="bnsl",
    title="Eq. 1",
    description="Eq. 1, broken power law (BNSL), per group",
    equation="-log Q = a + b C^-c0 (1 + (C / d1)^(1 / f1))^(-c1 f1)",
    latex=r"-\log Q = a + b\,C^{-c_0}\left(1 + (C / d_1)^{1 / f_1}\right)^{-c_1 f_1}",
    columns=("flops",),
    n_parameters=N_PARAMETERS,
    min_runs=N_PARAMETERS + 1,
    inputs=centred_log_compute,
    neg_log_q=bnsl_neg_log_q,
    residuals=bnsl_log_residuals,
    jacobian=bnsl_log_residuals_jacobian,
    bounds=bnsl_bounds,
    fit=fit_bnsl,
    fit_rows=fit_compute_law_to_rows(fit_bnsl),
    parameters=optimized_parameters,
    forecaster=bnsl_forecaster,
    robust=True,
)
"""Eq. 1 (BNSL) as a :class:`~scalelib.interfaces.Law`: robust fit, bootstrap resamples polished from the estimate."""
