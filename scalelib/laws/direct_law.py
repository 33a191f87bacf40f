"""The direct power law of Krajewski et al. (2025), Eq. 2, at a fixed tokens-per-parameter ratio.

.. math::

    -\\log Q = A \\, C^{-\\alpha}, \\qquad
    Q = \\frac{\\mathrm{acc} - \\mathrm{chance}}{1 - \\mathrm{chance}},

a straight line in transformed space: :math:`\\log(-\\log Q) = \\log A - \\alpha \\log C`.
This module is the law as the library's consumers see it, :data:`DIRECT_LAW`; its parts
live in two modules, and their public names are importable from here too:

* :mod:`scalelib.laws.direct_law_fit` -- the fit (:func:`fit_direct_law`: OLS of the line, as
  the paper does, or lmfit in accuracy space), :class:`DirectLawFit` and
  :func:`direct_law_forecaster`;
* :mod:`scalelib.laws.direct_law_intervals` -- its intervals in closed form: the analytic OLS
  interval with its calibrated drift term and the vectorised bootstrap over runs.
"""

from __future__ import annotations

from scalelib.laws.direct_law_fit import (
    N_PARAMETERS,
    DirectLawFit,
    Method,
    _centred_neg_log_q,
    _fitted_parameters,
    direct_law_bounds,
    direct_law_forecaster,
    direct_law_log_residuals,
    direct_law_log_residuals_jacobian,
    direct_law_neg_log_q,
    fit_direct_law,
)
from scalelib.laws.direct_law_intervals import (
    direct_law_bootstrap_curves,
    direct_law_interval_forecaster,
)
from scalelib.interfaces import Law, centred_log_compute, fit_compute_law_to_rows

__all__ = [
    "N_PARAMETERS",
    "Method",
    "DirectLawFit",
    "direct_law_neg_log_q",
    "direct_law_log_residuals",
    "direct_law_log_residuals_jacobian",
    "direct_law_bounds",
    "fit_direct_law",
    "direct_law_forecaster",
    "DIRECT_LAW",
]

DIRECT_LAW = Law(
    name="direct",
    title="Eq. 2",
    description="Eq. 2, -log Q = A C^-alpha, per group",
    equation="-log Q = A C^-alpha",
    latex=r"-\log Q = A\,C^{-\alpha}",
    columns=("flops",),
    n_parameters=N_PARAMETERS,
    min_runs=N_PARAMETERS + 1,
    inputs=centred_log_compute,
    neg_log_q=_centred_neg_log_q,
    residuals=direct_law_log_residuals,
    jacobian=direct_law_log_residuals_jacobian,
    bounds=direct_law_bounds,
    fit=fit_direct_law,
    fit_rows=fit_compute_law_to_rows(fit_direct_law),
    parameters=_fitted_parameters,
    forecaster=direct_law_forecaster,
    analytic_interval_forecaster=direct_law_interval_forecaster,
    bootstrap_curves=direct_law_bootstrap_curves,
)
"""Eq. 2 as a :class:`~scalelib.interfaces.Law`: a line in ``log(-log Q)``, closed-form fit, analytic
interval (:func:`~scalelib.laws.direct_law_intervals.direct_law_interval_forecaster`) and vectorised bootstrap
(:func:`~scalelib.laws.direct_law_intervals.direct_law_bootstrap_curves`)."""
