"""pass@k: the unbiased estimator, the released pass@k frame, Eq. 5 and the compute trade-off.

A code benchmark is scored by running each generated program against unit tests.
With :math:`n` samples per problem of which :math:`c` pass, the unbiased estimator of
pass@k, the probability that at least one of :math:`k` samples passes, is
(Chen et al., 2021)

.. math::

    \\widehat{\\text{pass@}k} = \\mathop{\\mathbb{E}}_{\\text{problems}}
    \\left[1 - \\binom{n - c}{k} \\Big/ \\binom{n}{k}\\right].

Krajewski et al. (2025) model its dependence on training compute :math:`C` and on
:math:`k` jointly (their Eq. 5), with :math:`Q = \\text{pass@}k` (chance is 0):

.. math::

    \\log(-\\log Q(C, k)) = \\log A + \\alpha \\log C + \\beta \\log k
    + \\delta \\log C \\log k,

linear in its four parameters, so it is fitted by (optionally weighted) least squares
in closed form. Its slopes are the compute exponent :math:`\\alpha + \\delta \\log k`
and the k exponent :math:`\\beta + \\delta \\log C`; both come out negative on the
released data (more compute and more samples both lower :math:`-\\log Q`), while
:math:`\\beta` alone, the k exponent at C = 1 FLOP, can have either sign.

Mind the sign of :math:`\\alpha`: here it is the slope of :math:`\\log(-\\log Q)` in
:math:`\\log C`, while Eq. 2's :math:`\\alpha` (:mod:`scalelib.laws.direct_law`,
:math:`-\\log Q = A C^{-\\alpha}`, so :math:`\\log(-\\log Q) = \\log A - \\alpha \\log C`) is
minus that slope. A benchmark that improves with compute has :math:`\\alpha < 0` in Eq. 5
and :math:`\\alpha > 0` in Eq. 2; each keeps the paper's convention, so at :math:`k = 1`
Eq. 5's :math:`\\alpha` is minus Eq. 2's.

This module gathers the public names of the pass@k modules, each of one concern (the
chapters import them from here):

* :mod:`scalelib.data.pass_at_k_estimator` -- :func:`~scalelib.data.pass_at_k_estimator.pass_at_k`
  and :func:`~scalelib.data.pass_at_k_estimator.mean_pass_at_k`, the estimator, for readers who
  bring raw samples; :func:`~scalelib.data.pass_at_k_estimator.estimator_bound_violations`, two
  inequalities every value the estimator produces must satisfy;
* :mod:`scalelib.data.pass_at_k_data` -- :func:`~scalelib.data.pass_at_k_data.load_pass_at_k`, the
  released pass@k values as a tidy frame with a ``k`` column, with broken evaluations
  and exact zeros excluded and returned with a reason; the tables
  :func:`~scalelib.data.pass_at_k_data.coverage_table` and
  :func:`~scalelib.data.pass_at_k_data.coverage_by_run` (how the interval misses of a
  backtest with intervals group by run);
* :mod:`scalelib.laws.pass_at_k_fit` -- Eq. 5 and its fit
  (:func:`~scalelib.laws.pass_at_k_fit.fit_pass_at_k_law`, with classical or run-clustered
  standard errors);
* :mod:`scalelib.laws.pass_at_k_law` -- :func:`~scalelib.laws.pass_at_k_law.fit_pass_at_k_by_benchmark`,
  :func:`~scalelib.laws.pass_at_k_law.pass_at_k_forecaster` (a :data:`~scalelib.interfaces.Forecaster`),
  Eq. 5's analytic interval and :data:`~scalelib.laws.pass_at_k_law.PASS_AT_K_LAW`;
* :mod:`scalelib.laws.pass_at_k_tradeoff` -- the trade-off between training and sampling:
  :func:`~scalelib.laws.pass_at_k_tradeoff.params_at_compute`,
  :func:`~scalelib.laws.pass_at_k_tradeoff.inference_flops`,
  :func:`~scalelib.laws.pass_at_k_tradeoff.iso_pass_at_k` and
  :func:`~scalelib.laws.pass_at_k_tradeoff.break_even_problems`.
"""

from __future__ import annotations

from scalelib.data.pass_at_k_data import (
    CODE_BENCHMARKS,
    coverage_by_run,
    coverage_table,
    load_pass_at_k,
)
from scalelib.data.pass_at_k_estimator import (
    MAX_SAMPLES,
    estimator_bound_violations,
    mean_pass_at_k,
    pass_at_k,
)
from scalelib.laws.pass_at_k_fit import (
    N_PARAMETERS,
    PARAMETER_NAMES,
    PassAtKLawFit,
    fit_pass_at_k_law,
    pass_at_k_law_bounds,
    pass_at_k_law_inputs,
    pass_at_k_law_log_neg_log_q,
    pass_at_k_law_log_residuals,
    pass_at_k_law_log_residuals_jacobian,
)
from scalelib.laws.pass_at_k_law import (
    PASS_AT_K_LAW,
    fit_pass_at_k_by_benchmark,
    pass_at_k_forecaster,
)
from scalelib.laws.pass_at_k_tradeoff import (
    break_even_problems,
    inference_flops,
    iso_pass_at_k,
    params_at_compute,
)

__all__ = [
    "CODE_BENCHMARKS",
    "MAX_SAMPLES",
    "N_PARAMETERS",
    "PARAMETER_NAMES",
    "pass_at_k",
    "mean_pass_at_k",
    "estimator_bound_violations",
    "load_pass_at_k",
    "coverage_table",
    "PassAtKLawFit",
    "pass_at_k_law_log_neg_log_q",
    "pass_at_k_law_inputs",
    "pass_at_k_law_log_residuals",
    "pass_at_k_law_log_residuals_jacobian",
    "pass_at_k_law_bounds",
    "fit_pass_at_k_law",
    "fit_pass_at_k_by_benchmark",
    "pass_at_k_forecaster",
    "coverage_by_run",
    "params_at_compute",
    "inference_flops",
    "iso_pass_at_k",
    "break_even_problems",
    "PASS_AT_K_LAW",
]
