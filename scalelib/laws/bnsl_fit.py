"""Eq. 1's robust global fit: :func:`fit_bnsl`, its result :class:`BNSLFit` and its search.

The loss has many local minima (a sharp break can sit in any gap between two runs and
set the runs beyond it apart), so :func:`fit_bnsl` searches globally with two
structures of the law before it polishes:

* ``a`` and ``b`` enter linearly: on a coarse grid of the exponents ``(c0, s = c0 + c1,
  log d_ref, log f1)`` they are profiled out in closed form (:func:`bnsl_profile`,
  :func:`scalelib.laws.profile_fit.profile_amplitudes`);
* for a fixed break and sharpness, ``log T = log b_ref - c0 (x - f1 softplus(z)) -
  s f1 softplus(z)``, ``z = (x - log d_ref) / f1``, is linear in ``(log b_ref, c0, s)``:
  on a grid of floors, breaks in every gap between the runs and sharpnesses, those three
  follow from a few closed-form weighted least-squares steps.

The law in its fitted parametrisation is :mod:`scalelib.laws.bnsl_equation`; the law itself is
:data:`scalelib.laws.bnsl.BNSL_LAW`, and every public name here is importable from
:mod:`scalelib.laws.bnsl` too.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult, least_squares

from scalelib.laws.bnsl_equation import (
    MAX_SLOPE,
    N_PARAMETERS,
    bnsl_bounds,
    bnsl_log_residuals,
    bnsl_log_residuals_jacobian,
    bnsl_neg_log_q,
)
from scalelib.data.validation import check_compute
from scalelib.data.normalise import (
    HUBER_DELTA,
    LOG_AMPLITUDE_BOUND,
    REFERENCE_COMPUTE,
    accuracy_from_neg_log_q,
    huber_loss,
    log_compute_offset,
    neg_log_q,
    validate_law_inputs,
)
from scalelib.laws.profile_fit import (
    COARSE_ITERATIONS,
    POLISH_TOLERANCE,
    TIE_TOLERANCE,
    Profile,
    grid_local_minima,
    huber_objective,
    polish_huber,
    profile_amplitudes,
    tie_order,
)

__all__ = [
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
    "bnsl_profile",
    "fit_bnsl",
]

SLOPE_GRID = np.array([0.0, 0.03, 0.1, 0.2, 0.35, 0.6, 1.0, 2.0, MAX_SLOPE])
"""Slopes ``c0`` and ``s = c0 + c1`` of the coarse profile grid (:func:`bnsl_profile`)."""

SHARPNESS_GRID = (0.1, 0.5, 2.5)
"""Sharpnesses f1 of both grids: a kink, a bend over about a decade, a gradual one."""

N_BREAK_GRID = 8
"""Breaks of the coarse profile grid, evenly spaced over their bounds."""

FLOOR_GRID = (0.0, 0.3, 0.6, 0.8, 0.9, 0.97, 1.0, 1.05, 1.2, 1.5)
"""Floors a of the log-linear grid, as multiples of the smallest observed ``-log Q``
(above 1 the lowest runs lie below the floor: outliers of the Huber loss)."""

N_OUTER_BREAKS = 3
"""Breaks of the log-linear grid beyond each end of the runs (besides one in every gap)."""

LOG_LINEAR_ITERATIONS = 5
"""Closed-form Huber-weighted steps of ``(log b_ref, c0, s)`` at each log-linear grid point."""

N_PROFILE_STARTS = 6
"""Distinct best local minima of the coarse profile grid that are screened."""

N_LOG_LINEAR_STARTS = 6
"""Distinct best local minima of the log-linear grid that are screened."""

N_CANDIDATES = 40
"""Local minima of the log-linear grid whose amplitudes are profiled exactly (and, times
:data:`N_PROFILE_STARTS`, of the profile grid) before the distinct best are kept."""

SCREEN_EVALUATIONS = 15
"""``max_nfev`` of the short ``least_squares`` run that screens each start."""

N_POLISHED = 2
"""Best screened fits polished to convergence."""

BOUND_SNAP = 0.05
"""Parameters within this fraction of their bounds' range of a bound are tried on it (:func:`_finish`)."""

FINAL_TOLERANCE = 1e-12
"""``ftol``, ``xtol`` and ``gtol`` of the last polish."""

DISTINCT_TOLERANCE = 1e-6
"""Relative difference below which two grid minima count as one plateau (only the first is screened)."""


@dataclass(frozen=True, eq=False)
class BNSLFit:
    """Result of :func:`fit_bnsl`: ``-log Q = a + b C^(-c0) (1 + (C/d1)^(1/f1))^(-c1 f1)``.

    Attributes
    ----------
    a, b, c0, c1, d1, f1
        Parameters of Eq. 1 (C in FLOPs).
    objective
        Huber loss (delta = 1e-3, summed) of the log residuals at the optimum.
    chance
        Chance level used for the normalisation.
    n_points, n_starts
        Number of points fitted and of starts screened.
    optimize_result
        The ``scipy.optimize.OptimizeResult`` of the final polish, in the fitted
        parametrisation (see :mod:`scalelib.laws.bnsl`).
    """

    a: float
    b: float
    c0: float
    c1: float
    d1: float
    f1: float
    objective: float
    chance: float
    n_points: int
    n_starts: int
    optimize_result: OptimizeResult

    def predict(self, compute: ArrayLike) -> np.ndarray:
        """Raw accuracy at compute C: ``chance + (1 - chance) exp(-y(C))`` with y from Eq. 1.

        Raises :class:`~scalelib.data.normalise.ScalingDataError` for compute that is not a
        finite number > 0.
        """
        return accuracy_from_neg_log_q(
            bnsl_neg_log_q(log_compute_offset(check_compute(compute)), self.optimize_result.x), self.chance
        )


def bnsl_profile(x: np.ndarray) -> Profile:
    """Eq. 1 at centred log compute ``x`` for :mod:`scalelib.laws.profile_fit`.

    The exponents are ``theta = (c0, s, log d_ref, log f1)`` (the grid :data:`SLOPE_GRID`
    twice, :data:`N_BREAK_GRID` breaks evenly over the bounds, :data:`SHARPNESS_GRID`);
    for fixed exponents ``a + b_ref T`` is linear in ``(b_ref, a)``: basis columns ``T``
    (the broken power law at ``b_ref = 1``) and 1. An amplitude at its bound 0 starts the
    polish from ``exp(-LOG_AMPLITUDE_BOUND)``.
    """
    lower, upper = bnsl_bounds(x)

    def basis(theta: np.ndarray) -> np.ndarray:
        c0, slope_after, log_d_ref, log_f1 = (theta[:, k:k + 1] for k in range(4))
        bend = np.exp(log_f1) * np.logaddexp(0.0, (x[None, :] - log_d_ref) / np.exp(log_f1))
        power = np.exp(-c0 * (x[None, :] - bend) - slope_after * bend)
        return np.stack([power, np.ones_like(power)], axis=-1)

    def parameters(theta: np.ndarray, amplitudes: np.ndarray) -> np.ndarray:
        log_b_ref = np.log(max(amplitudes[0], np.exp(-LOG_AMPLITUDE_BOUND)))
        return np.array([amplitudes[1], log_b_ref, *theta])

    return Profile(
        basis=basis,
        axes=[SLOPE_GRID, SLOPE_GRID, np.linspace(lower[4], upper[4], N_BREAK_GRID), np.log(SHARPNESS_GRID)],
        parameters=parameters,
        exponents=lambda p: p[2:],
    )


def _break_axis(x: np.ndarray) -> np.ndarray:
    """Breaks tried with the log-linear solve: the middle of every gap between runs, and a few outside."""
    lower, upper = bnsl_bounds(x)
    distinct = np.unique(x)
    outside = N_OUTER_BREAKS + 1
    return np.concatenate([
        np.linspace(lower[4], distinct[0], outside)[:-1],
        (distinct[1:] + distinct[:-1]) / 2,
        np.linspace(distinct[-1], upper[4], outside)[1:],
    ])


def _solve_3x3(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Batched solve of symmetric 3x3 systems by the adjugate (elementwise: the same on every CPU); NaN if singular."""
    s00, s01, s02 = matrix[..., 0, 0], matrix[..., 0, 1], matrix[..., 0, 2]
    s11, s12, s22 = matrix[..., 1, 1], matrix[..., 1, 2], matrix[..., 2, 2]
    c00, c01, c02 = s11 * s22 - s12 * s12, s02 * s12 - s01 * s22, s01 * s12 - s02 * s11
    c11, c12, c22 = s00 * s22 - s02 * s02, s01 * s02 - s00 * s12, s00 * s11 - s01 * s01
    determinant = s00 * c00 + s01 * c01 + s02 * c02
    v0, v1, v2 = vector[..., 0], vector[..., 1], vector[..., 2]
    return np.stack([
        c00 * v0 + c01 * v1 + c02 * v2, c01 * v0 + c11 * v1 + c12 * v2, c02 * v0 + c12 * v1 + c22 * v2,
    ], axis=-1) / determinant[..., None]


def _log_linear_candidates(x: np.ndarray, log_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best ``(log b_ref, c0, s)`` on the grid of floors x breaks x sharpnesses, by closed-form steps.

    For fixed ``(a, log d_ref, f1)``, ``log T = X beta`` with ``X = (1, -(x - f1 softplus(z)),
    -f1 softplus(z))`` and ``beta = (log b_ref, c0, s)``. The first ``beta`` is the least
    squares fit of ``log(y - a)`` (points above the floor, weighted ``((y - a) / y)^2`` so
    that it approximates the log residuals); each of :data:`LOG_LINEAR_ITERATIONS` steps then
    linearises the log residual ``log(a + exp(X beta)) - log y`` in ``beta`` and solves the
    Huber-weighted linear least squares in closed form, as :func:`scalelib.laws.profile_fit.profile_amplitudes`
    does for amplitudes; the slopes are clipped into their bounds after each step.

    Returns the Huber loss and the full parameter vector of every grid point, shapes
    ``(F, D, S)`` and ``(F, D, S, 6)`` (floors, breaks, sharpnesses).
    """
    target = np.exp(log_target)
    breaks = _break_axis(x)
    log_f1 = np.log(np.array(SHARPNESS_GRID))
    floors = np.array(FLOOR_GRID)[:, None, None, None] * target.min()
    f1 = np.exp(log_f1)[None, :, None]
    bend = f1 * np.logaddexp(0.0, (x[None, None, :] - breaks[:, None, None]) / f1)  # (D, S, n)
    columns = [np.ones_like(bend), bend - x, -bend]  # d log T / d beta
    above = target > floors * (1.0 + 1e-3)
    weights = np.where(above, (target - floors) / target, 0.0) ** 2
    working = np.where(above, np.log(np.where(above, target - floors, 1.0)), 0.0)
    lower, upper = np.array([-LOG_AMPLITUDE_BOUND, 0.0, 0.0]), np.array([LOG_AMPLITUDE_BOUND, MAX_SLOPE, MAX_SLOPE])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        for step in range(LOG_LINEAR_ITERATIONS + 1):
            matrix = np.empty(np.broadcast_shapes(weights.shape, bend.shape)[:-1] + (3, 3))
            vector = np.empty(matrix.shape[:-1])
            for i in range(3):
                weighted = weights * columns[i]
                vector[..., i] = np.sum(weighted * working, axis=-1)
                for j in range(i, 3):
                    matrix[..., i, j] = matrix[..., j, i] = np.sum(weighted * columns[j], axis=-1)
            beta = _solve_3x3(matrix, vector)
            beta = np.clip(np.where(np.isfinite(beta), beta, 0.0), lower, upper)
            log_power = beta[..., :1] + beta[..., 1:2] * columns[1] + beta[..., 2:3] * columns[2]
            power = np.exp(log_power)
            residuals = np.log(floors + power) - log_target
            if step == LOG_LINEAR_ITERATIONS:
                break
            slope = power / (floors + power)  # d residual / d log T
            working = log_power - residuals / slope
            weights = slope**2 * np.minimum(1.0, HUBER_DELTA / np.abs(residuals))
            usable = np.isfinite(working) & np.isfinite(weights)
            working, weights = np.where(usable, working, 0.0), np.where(usable, weights, 0.0)
    objective = huber_objective(residuals)
    parameters = np.empty(objective.shape + (N_PARAMETERS,))
    parameters[..., 0] = floors[..., 0]
    parameters[..., 1:4] = beta
    parameters[..., 4] = breaks[None, :, None]
    parameters[..., 5] = log_f1[None, None, :]
    return objective, parameters


def _distinct_best(objective: np.ndarray, candidates: np.ndarray, n_best: int) -> np.ndarray:
    """The first ``n_best`` of ``candidates`` (in their order) whose loss differs from every one kept.

    Plateaus of the profile (``c0 = s``, where break and sharpness do not matter) give many
    equal local minima; only the first of each is kept (equal: within :data:`DISTINCT_TOLERANCE`).
    """
    kept: list[int] = []
    for index in candidates:
        if all(abs(objective[index] - objective[other]) > DISTINCT_TOLERANCE * objective[other] for other in kept):
            kept.append(int(index))
            if len(kept) == n_best:
                break
    return np.array(kept, dtype=int)


def _starts(x: np.ndarray, log_target: np.ndarray) -> list[np.ndarray]:
    """Starts for the screen: distinct minima of the coarse profile, then of the log-linear grid."""
    profile = bnsl_profile(x)
    axes = [np.asarray(axis, dtype=float) for axis in profile.axes]
    grid = np.array(list(itertools.product(*axes)))
    coefficients, objective = profile_amplitudes(profile.basis(grid), log_target, n_iterations=COARSE_ITERATIONS)
    minima = grid_local_minima(objective.reshape([len(axis) for axis in axes]), N_CANDIDATES * N_PROFILE_STARTS)
    starts = [profile.parameters(grid[i], coefficients[i]) for i in _distinct_best(objective, minima, N_PROFILE_STARTS)]

    log_linear, parameters = _log_linear_candidates(x, log_target)
    parameters = parameters.reshape(-1, N_PARAMETERS)
    minima = grid_local_minima(log_linear, N_CANDIDATES)
    # the floor was a grid value: profile (a, b) exactly at each minimum's exponents
    exponents = parameters[minima, 2:]
    coefficients, profiled = profile_amplitudes(profile.basis(exponents), log_target)
    losses = np.minimum(profiled, log_linear.ravel()[minima])
    candidates = [
        profile.parameters(theta, amplitudes) if new < old else parameters[index]
        for theta, amplitudes, new, old, index in zip(exponents, coefficients, profiled, log_linear.ravel()[minima], minima)
    ]
    return starts + [candidates[i] for i in _distinct_best(losses, tie_order(losses), N_LOG_LINEAR_STARTS)]


def _huber_least_squares(
    x: np.ndarray, log_target: np.ndarray, start: np.ndarray, *, free: np.ndarray | None = None,
    tolerance: float = POLISH_TOLERANCE, max_nfev: int | None = None,
) -> OptimizeResult:
    """``least_squares(loss="huber", f_scale=1e-3)`` of the log residuals from ``start``.

    With ``free`` (a boolean mask), only those parameters move; the others stay at their
    values in ``start``. The result's ``x`` is always the full parameter vector.
    """
    lower, upper = bnsl_bounds(x)
    free = np.ones(N_PARAMETERS, dtype=bool) if free is None else free
    start = np.clip(start, lower, upper)

    def full(values: np.ndarray) -> np.ndarray:
        parameters = start.copy()
        parameters[free] = values
        return parameters

    result = least_squares(
        lambda values: bnsl_log_residuals(full(values), x, log_target), start[free],
        jac=lambda values: bnsl_log_residuals_jacobian(full(values), x, log_target)[:, free],
        bounds=(lower[free], upper[free]), loss="huber", f_scale=HUBER_DELTA,
        ftol=tolerance, xtol=tolerance, gtol=tolerance, max_nfev=max_nfev,
    )
    result.x = full(result.x)
    return result


def _lower(candidate: OptimizeResult, best: OptimizeResult) -> bool:
    return candidate.cost < best.cost - TIE_TOLERANCE * best.cost


def _finish(x: np.ndarray, log_target: np.ndarray, best: OptimizeResult) -> OptimizeResult:
    """Refine the polished optimum on its active bounds, then at tighter tolerances.

    On a near-L1 loss ``least_squares`` creeps towards a bound it should sit on (a floor
    of 0, a slope of 5, f1 = 0.1). Parameters within :data:`BOUND_SNAP` of their bound's
    range are set on it and the others polished, then all are polished from there; the
    result is kept if lower. A last polish at :data:`FINAL_TOLERANCE` does the same for
    the unconstrained creep.
    """
    lower, upper = bnsl_bounds(x)
    span = np.where(np.isfinite(upper), upper - lower, np.maximum(best.x[0], 1.0))
    at_lower = best.x - lower < BOUND_SNAP * span
    at_upper = np.isfinite(upper) & (upper - best.x < BOUND_SNAP * span)
    if (at_lower | at_upper).any():
        snapped = np.where(at_lower, lower, np.where(at_upper, upper, best.x))
        free = ~(at_lower | at_upper)
        if free.any():
            snapped = _huber_least_squares(x, log_target, snapped, free=free).x
        candidate = _huber_least_squares(x, log_target, snapped)
        if _lower(candidate, best):
            best = candidate
    candidate = _huber_least_squares(x, log_target, best.x, tolerance=FINAL_TOLERANCE)
    return candidate if _lower(candidate, best) else best


def fit_bnsl(
    compute: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    labels: Sequence[str] | None = None,
) -> BNSLFit:
    """Fit Eq. 1 (BNSL, one break) to ``-log Q`` by a robust global fit.

    Minimises the Huber loss (delta = 1e-3) of ``log y_BNSL(C) - log(-log Q)`` within the
    bounds stated in :mod:`scalelib.laws.bnsl`, in four stages:

    1. **Starts.** The distinct best local minima of two grids (module docstring): the
       amplitudes ``(a, b)`` profiled in closed form on a coarse grid of the exponents
       (:data:`N_PROFILE_STARTS` starts), and ``(log b_ref, c0, s)`` solved in closed form
       on a grid of floors, breaks in every gap between runs and sharpnesses, with
       ``(a, b)`` then profiled at those exponents (:data:`N_LOG_LINEAR_STARTS` starts).
    2. **Screen.** ``scipy.optimize.least_squares(loss="huber", f_scale=1e-3)`` runs at most
       :data:`SCREEN_EVALUATIONS` evaluations from each start: enough to settle each in its
       basin.
    3. **Polish.** The :data:`N_POLISHED` best screened fits are polished to convergence
       (:func:`scalelib.laws.profile_fit.polish_huber`).
    4. **Finish.** The best is refined on its active bounds and at tighter tolerances
       (:func:`_finish`).

    Every choice is made in a fixed order with :data:`~scalelib.laws.profile_fit.TIE_TOLERANCE`,
    so the fit is the same on every machine. ``benchmarks/fast_bnsl.py`` compares it, fit
    by fit, with the former 32-start continuation fit.

    Parameters
    ----------
    compute
        Training compute C in FLOPs, one per run.
    accuracy
        Raw accuracy, one per run, strictly between ``chance`` and 1.
    chance
        Chance level of the benchmark.
    labels
        Optional run ids naming offending points in error messages.

    Returns
    -------
    BNSLFit

    Raises
    ------
    ScalingDataError
        On inputs refused by :func:`scalelib.data.normalise.validate_law_inputs`
        (including fewer than 6 points).
    """
    compute, accuracy = validate_law_inputs(
        compute, accuracy, chance=chance, n_parameters=N_PARAMETERS, labels=labels
    )
    x = log_compute_offset(compute)
    log_target = np.log(neg_log_q(accuracy, chance))
    starts = _starts(x, log_target)
    screened = [_huber_least_squares(x, log_target, start, max_nfev=SCREEN_EVALUATIONS) for start in starts]
    order = tie_order([result.cost for result in screened])[:N_POLISHED]
    best = polish_huber(
        lambda parameters: bnsl_log_residuals(parameters, x, log_target),
        lambda parameters: bnsl_log_residuals_jacobian(parameters, x, log_target),
        [screened[i].x for i in order],
        bounds=bnsl_bounds(x),
        inside_first=False,  # without bounds first: twice the time and one fit 4e-4 worse (fast_fits.py)
    )
    best = _finish(x, log_target, best)
    a, log_b_ref, c0, slope_after, log_d_ref, log_f1 = best.x
    return BNSLFit(
        a=float(a),
        b=float(np.exp(log_b_ref + c0 * np.log(REFERENCE_COMPUTE))),
        c0=float(c0),
        c1=float(slope_after - c0),
        d1=float(REFERENCE_COMPUTE * np.exp(log_d_ref)),
        f1=float(np.exp(log_f1)),
        objective=huber_loss(best.fun),
        chance=chance,
        n_points=len(compute),
        n_starts=len(starts),
        optimize_result=best,
    )
