"""Robust fits by variable projection: amplitudes in closed form, exponents on a grid, then one polish.

The robust laws of ``scalelib`` (Eq. 6 :mod:`~scalelib.laws.saturating_law`, Eq. 1
:mod:`~scalelib.laws.bnsl`, Eq. 4 :mod:`~scalelib.laws.ratio_law`) all predict
:math:`y = -\\log Q` as a non-negative combination of basis functions,

.. math::

    \\hat y_i = \\sum_j c_j\\, b_j(x_i; \\theta), \\qquad c_j \\ge 0,

linear in the amplitudes :math:`c` (and floors) once the exponents :math:`\\theta`
are fixed. They are fitted by minimising the Huber loss (delta = 1e-3) of the log
residuals :math:`r_i = \\log \\hat y_i - \\log y_i`. This module exploits that
structure (variable projection):

1. **Profile** (:func:`profile_amplitudes`). For every :math:`\\theta` of a grid, the
   best amplitudes are found by iteratively reweighted least squares (IRLS): linearise
   :math:`\\log \\hat y` around the current amplitudes, weight each point by its Huber
   weight :math:`\\min(1, \\delta / |r_i|)`, and solve the resulting weighted linear
   least squares in closed form (one or two columns: a 1x1 or 2x2 system). Every subset
   of the columns is tried, so an amplitude may sit at its bound 0; all grid points are
   solved at once, as array operations.
2. **Refine.** Around each of the best local minima of that profile on the grid
   (:func:`grid_local_minima`; at most :data:`N_POLISHED`, and only those within a
   factor :data:`POLISH_RATIO` of the lowest), a finer grid between the neighbouring
   grid points is profiled the same way.
3. **Polish** (:func:`polish_huber`). ``scipy.optimize.least_squares`` with
   ``loss="huber", f_scale=delta`` refines all parameters from each refined minimum,
   and the lowest loss is kept. By default (Eq. 6) it runs first without bounds, the
   parameters at a bound held there, and keeps that optimum if it is one of the bounded
   problem (less work per step); otherwise, and for Eq. 4 and BNSL, within the bounds.

The grid makes the search global (every basin the grid resolves is visited) and the
closed-form inner step makes the grid cheap; the polish makes the result a true
optimum, not a grid point. ``benchmarks/fit_laws.py`` compares the result with the
former multi-start fits and the paper's searches on every benchmark.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeResult, least_squares

from scalelib.data.normalise import HUBER_DELTA

__all__ = [
    "INNER_ITERATIONS",
    "POLISH_TOLERANCE",
    "N_POLISHED",
    "POLISH_RATIO",
    "REFINE_POINTS",
    "TIE_TOLERANCE",
    "first_lowest",
    "tie_order",
    "huber_objective",
    "profile_amplitudes",
    "grid_local_minima",
    "polish_huber",
    "Profile",
    "fit_by_profile",
    "COARSE_ITERATIONS",
    "BOOTSTRAP_LEVELS",
    "bootstrap_by_profile",
]

INNER_ITERATIONS = 5
"""IRLS steps of the closed-form amplitude fit at every grid point."""

POLISH_TOLERANCE = 1e-10
"""``ftol``, ``xtol`` and ``gtol`` of the final ``least_squares`` polish."""

TIE_TOLERANCE = 1e-9
"""Relative difference below which two losses count as equal; the first in order then wins.

Near-L1 losses have flat optima (any constant between the two middle points of flat data
fits equally well), so exact ties are common, and which of two tied candidates rounding
makes lower differs from one CPU to the next. Every choice here is made with this
tolerance, in a fixed order, so that it does not."""

BOUND_TOLERANCE = 1e-12
"""A start within this (relative) distance of a bound is at it: :func:`polish_huber` holds it there."""

_TINY = 1e-300
"""Smallest amplitude an IRLS step linearises around."""

N_POLISHED = 3
"""How many of the best local minima of the profile are polished, at most."""

POLISH_RATIO = 1.25
"""Local minima of the profile whose loss exceeds the lowest by more than this factor are
not polished. A grid point's loss bounds its basin's minimum from above, and on a grid as
fine as the laws use it lies within a few per cent of it (1-3% on the released data), so
a basin 25% worse on the grid cannot hold the optimum unless it is far narrower than
the grid spacing."""

COARSE_ITERATIONS = 2
"""IRLS steps on the whole grid in a bootstrap, where the grid points are only ranked."""

BOOTSTRAP_LEVELS = 4
"""Halvings of each resample's bracket in a bootstrap: exponents exact to 1/16 of a grid step."""

REFINE_POINTS = 9
"""Points per axis of the finer grid profiled between the neighbours of a chosen minimum."""


@dataclass(frozen=True)
class Profile:
    """What the profile needs of a law at given inputs: its basis, grid and parametrisation.

    Attributes
    ----------
    basis
        ``basis(theta)``, ``theta`` of shape ``(G, q)``: the basis functions at the fitted
        points, shape ``(G, n, m)`` with ``m`` in {1, 2}.
    axes
        The ``q`` one-dimensional grids whose product is searched.
    parameters
        ``parameters(theta, amplitudes)``: one grid point and its amplitudes as the law's
        full parameter vector.
    exponents
        ``exponents(parameters)``: the inverse, the ``theta`` of a full parameter vector.
    """

    basis: Callable[[np.ndarray], np.ndarray]
    axes: Sequence[np.ndarray]
    parameters: Callable[[np.ndarray, np.ndarray], np.ndarray]
    exponents: Callable[[np.ndarray], np.ndarray]


def huber_objective(
    residuals: np.ndarray, delta: float = HUBER_DELTA, counts: np.ndarray | float = 1.0
) -> np.ndarray:
    """Summed Huber loss over the last axis (NaN residuals give ``inf``), for batches of residuals.

    ``counts`` (broadcastable to ``residuals``) multiplies each point's loss.
    """
    absolute = np.abs(residuals)
    loss = (counts * np.where(absolute <= delta, 0.5 * absolute**2, delta * (absolute - 0.5 * delta))).sum(axis=-1)
    return np.where(np.isfinite(loss), loss, np.inf)


def first_lowest(losses: np.ndarray, axis: int = -1) -> np.ndarray:
    """Index of the first loss within :data:`TIE_TOLERANCE` (relative) of the lowest, along ``axis``."""
    losses = np.asarray(losses, dtype=float)
    lowest = np.min(losses, axis=axis, keepdims=True)
    return np.argmax(losses <= lowest + TIE_TOLERANCE * np.abs(lowest), axis=axis)


def tie_order(losses: np.ndarray) -> np.ndarray:
    """Indices from the lowest loss to the highest; losses within :data:`TIE_TOLERANCE` keep their order.

    Losses are ranked after rounding to the tie tolerance (relative to the lowest finite
    loss), so two candidates that differ only in the last bits rank the same on every CPU,
    in the order given. Non-finite losses come last.
    """
    losses = np.asarray(losses, dtype=float)
    finite = losses[np.isfinite(losses)]
    scale = TIE_TOLERANCE * (finite.min() if finite.size and finite.min() > 0 else 1.0)
    return np.lexsort((np.arange(len(losses)), np.round(np.where(np.isfinite(losses), losses, np.inf) / scale)))


def _weighted_solve(design: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Batched weighted least squares ``min sum_i w_i (design_i . c - target_i)^2``, one or two columns.

    Solves the normal equations in closed form (Cramer's rule for two columns); NaN where
    they are singular (call it under ``np.errstate(divide="ignore", invalid="ignore")``).
    """
    first = design[..., 0]
    weighted_first = weights * first
    s00 = (weighted_first * first).sum(axis=-1)
    b0 = (weighted_first * target).sum(axis=-1)
    if design.shape[-1] == 1:
        return (b0 / s00)[..., None]
    second = design[..., 1]
    weighted_second = weights * second
    s01 = (weighted_first * second).sum(axis=-1)
    s11 = (weighted_second * second).sum(axis=-1)
    b1 = (weighted_second * target).sum(axis=-1)
    determinant = s00 * s11 - s01 * s01
    return np.stack([(s11 * b0 - s01 * b1) / determinant, (s00 * b1 - s01 * b0) / determinant], axis=-1)


def _combine(columns: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """``columns @ coefficients`` over the last axis, batched: the predicted ``-log Q``."""
    prediction = columns[..., 0] * coefficients[..., None, 0]
    if columns.shape[-1] == 2:
        prediction = prediction + columns[..., 1] * coefficients[..., None, 1]
    return prediction


def profile_amplitudes(
    basis: np.ndarray,
    log_target: np.ndarray,
    *,
    counts: np.ndarray | None = None,
    delta: float = HUBER_DELTA,
    n_iterations: int = INNER_ITERATIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """Best non-negative amplitudes for every basis of a batch, by IRLS with closed-form steps.

    Minimises, for each batch entry, the Huber loss of ``log(basis @ c) - log_target``
    (each point's loss multiplied by its count, if given) over ``c >= 0``. Each step linearises ``log(basis @ c)`` at the current ``c`` and
    solves the Huber-weighted linear least squares exactly; the start is the least
    squares fit of relative errors ``(basis @ c - y) / y``. Every non-empty subset of
    the columns is fitted (the others held at 0) and the lowest loss with all its
    amplitudes positive is kept, so amplitudes at their bound 0 are found too.

    Parameters
    ----------
    basis
        Shape ``(..., n, m)`` with ``m`` in {1, 2}: the basis functions at the ``n``
        points, for each entry of the batch (e.g. each grid point of the exponents).
    log_target
        Shape ``(n,)`` or broadcastable to ``(..., n)``: ``log(-log Q)``.
    counts
        Broadcastable to ``(..., n)``: how often each point counts (a bootstrap
        resample's draws); None counts every point once.
    delta
        Huber threshold on the log residuals.
    n_iterations
        IRLS steps.

    Returns
    -------
    coefficients : numpy.ndarray
        Shape ``(..., m)``, zero for columns left out.
    objective : numpy.ndarray
        Shape ``(...)``: the Huber loss at those coefficients (``inf`` if no subset
        gave positive amplitudes).
    """
    n_columns = basis.shape[-1]
    if n_columns not in (1, 2):
        raise ValueError(f"profile_amplitudes solves one or two amplitudes, got {n_columns}.")
    target = np.exp(log_target)
    weighted = counts is not None
    counts = np.asarray(counts, dtype=float) if weighted else np.ones_like(target)
    batch_shape = np.broadcast_shapes(basis.shape[:-2], counts.shape[:-1])
    best_coefficients = np.zeros((*batch_shape, n_columns))
    best_objective = np.full(batch_shape, np.inf)
    subsets = [s for size in range(n_columns, 0, -1) for s in itertools.combinations(range(n_columns), size)]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for subset in subsets:
            columns = basis[..., list(subset)]
            coefficients = _weighted_solve(columns / target[..., None], np.ones_like(target), counts)
            for _ in range(n_iterations):
                # Amplitudes that went negative make log(prediction) undefined: the step
                # restarts from their smallest positive value instead.
                coefficients = np.maximum(coefficients, _TINY)
                prediction = _combine(columns, coefficients)
                residuals = np.log(prediction) - log_target
                weights = np.minimum(1.0, delta / np.abs(residuals))
                if weighted:
                    weights = counts * weights
                coefficients = _weighted_solve(columns / prediction[..., None], 1.0 - residuals, weights)
            prediction = _combine(columns, coefficients)
            objective = huber_objective(np.log(prediction) - log_target, delta, counts if weighted else 1.0)
            objective = np.where((coefficients > 0).all(axis=-1), objective, np.inf)
            better = objective < best_objective
            full = np.zeros((*batch_shape, n_columns))
            full[..., list(subset)] = np.broadcast_to(coefficients, (*batch_shape, len(subset)))
            best_coefficients = np.where(better[..., None], full, best_coefficients)
            best_objective = np.where(better, objective, best_objective)
    return best_coefficients, best_objective


def grid_local_minima(objective: np.ndarray, n_best: int = N_POLISHED) -> np.ndarray:
    """Flat indices of the ``n_best`` lowest local minima of ``objective`` on its grid.

    ``objective`` has one axis per grid dimension; a point is a local minimum when no
    neighbour one step along any axis is lower. Ties are broken by grid order, so the
    choice is deterministic. Falls back to the global minimum if every value is ``inf``.
    """
    padded = np.pad(objective, 1, constant_values=np.inf)
    is_minimum = np.isfinite(objective)
    centre = tuple(slice(1, -1) for _ in range(objective.ndim))
    for axis in range(objective.ndim):
        for shift in (-1, 1):
            neighbour = list(centre)
            neighbour[axis] = slice(1 + shift, objective.shape[axis] + 1 + shift)
            is_minimum &= objective <= padded[tuple(neighbour)]
    candidates = np.flatnonzero(is_minimum.ravel())
    if candidates.size == 0:
        return np.array([int(first_lowest(objective.ravel()))])
    return candidates[tie_order(objective.ravel()[candidates])[:n_best]]


def _polish_inside(
    residuals: Callable[[np.ndarray], np.ndarray], jacobian: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray, bounds: tuple[np.ndarray, np.ndarray], *, delta: float, tolerance: float,
) -> OptimizeResult | None:
    """The bounded Huber polish without bounds: the parameters at a bound held there, the others free.

    Returns the optimum if ``least_squares`` converged (not stopped at its evaluation limit)
    to an optimum of the bounded problem (Karush-Kuhn-Tucker): every free parameter within
    its bounds, and the loss's gradient in each held parameter pointing out of the box
    (``g_j >= 0`` at a lower bound, ``<= 0`` at an upper one). Otherwise None: the bounded
    polish decides. Without bounds ``least_squares`` does several times less work per step.
    """
    low, high = bounds
    at_low = np.isfinite(low) & (start - low <= BOUND_TOLERANCE * (1.0 + np.abs(low)))
    at_high = np.isfinite(high) & (high - start <= BOUND_TOLERANCE * (1.0 + np.abs(high)))
    free = ~(at_low | at_high)
    if not free.any():
        return None

    def full(free_parameters: np.ndarray) -> np.ndarray:
        parameters = start.copy()
        parameters[free] = free_parameters
        return parameters

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # trial steps may leave the box
        result = least_squares(
            lambda p: residuals(full(p)), start[free], jac=lambda p: jacobian(full(p))[:, free],
            loss="huber", f_scale=delta, ftol=tolerance, xtol=tolerance, gtol=tolerance,
        )
    parameters = full(result.x)
    converged = result.status > 0 and np.isfinite(result.fun).all()
    if not (converged and (parameters >= low).all() and (parameters <= high).all()):
        return None
    gradient = jacobian(parameters).T @ np.clip(result.fun, -delta, delta)
    if (gradient[at_low] < 0).any() or (gradient[at_high] > 0).any():
        return None
    result.x = parameters
    return result


def polish_huber(
    residuals: Callable[[np.ndarray], np.ndarray],
    jacobian: Callable[[np.ndarray], np.ndarray],
    starts: Sequence[np.ndarray],
    bounds: tuple[np.ndarray, np.ndarray],
    *,
    delta: float = HUBER_DELTA,
    tolerance: float = POLISH_TOLERANCE,
    inside_first: bool = True,
) -> OptimizeResult:
    """``scipy.optimize.least_squares(loss="huber", f_scale=delta)`` from each start; the lowest cost wins.

    Starts are clipped into ``bounds`` and tried in the given order; a later start wins
    only if it is lower by more than :data:`TIE_TOLERANCE` (relative), so tied optima
    (flat data) resolve to the same one on every machine. With ``inside_first``, each
    start is first polished without bounds (:func:`_polish_inside`: its parameters at a
    bound held there), which is kept if it is an optimum of the bounded problem;
    otherwise ``least_squares`` runs within the bounds. A start that is already an
    optimum (a bootstrap resample polished from the point estimate) is better polished
    within the bounds only: the unbounded path can leave its basin. The returned
    ``OptimizeResult`` gets ``n_starts``; its ``cost`` is the Huber loss of
    :func:`scalelib.data.normalise.huber_loss`.
    """
    best = None
    for start in starts:
        start = np.clip(np.asarray(start, dtype=float), bounds[0], bounds[1])
        result = None
        if inside_first:
            result = _polish_inside(residuals, jacobian, start, bounds, delta=delta, tolerance=tolerance)
        if result is None:
            result = least_squares(
                residuals, start, jac=jacobian, bounds=bounds,
                loss="huber", f_scale=delta, ftol=tolerance, xtol=tolerance, gtol=tolerance,
            )
        if best is None or result.cost < best.cost - TIE_TOLERANCE * best.cost:
            best = result
    best.n_starts = len(starts)
    return best


def fit_by_profile(
    profile: Profile,
    log_target: np.ndarray,
    *,
    residuals: Callable[[np.ndarray], np.ndarray],
    jacobian: Callable[[np.ndarray], np.ndarray],
    bounds: tuple[np.ndarray, np.ndarray],
    n_polished: int = N_POLISHED,
    refine_points: int = REFINE_POINTS,
    inside_first: bool = True,
) -> OptimizeResult:
    """Profile the amplitudes over a product grid of exponents, refine, then polish the best local minima.

    Parameters
    ----------
    profile
        The law's :class:`Profile` at the fitted points.
    log_target
        ``log(-log Q)`` at the fitted points.
    residuals, jacobian, bounds
        The law's log residuals and their Jacobian as functions of the full parameter
        vector, and its bounds, for :func:`polish_huber`.
    n_polished
        Largest number of local minima of the profile polished.
    refine_points
        Points per axis of the finer grid around each chosen minimum (1: no refinement).
    inside_first
        Polish without bounds first (:func:`polish_huber`).

    Returns
    -------
    scipy.optimize.OptimizeResult
        The best polished fit, with ``n_starts`` (minima polished) and ``n_grid``.
    """
    axes = [np.asarray(axis, dtype=float) for axis in profile.axes]
    shape = [len(axis) for axis in axes]
    grid = np.array(list(itertools.product(*axes)))
    coefficients, objective = profile_amplitudes(profile.basis(grid), log_target)
    chosen = grid_local_minima(objective.reshape(shape), n_polished)
    chosen = chosen[objective[chosen] <= POLISH_RATIO * objective[chosen[0]]]
    starts = []
    for index in chosen:
        fine_grid = np.array(list(itertools.product(
            *_refined_axes(axes, np.unravel_index(index, shape), refine_points)
        )))
        fine_coefficients, fine_objective = profile_amplitudes(profile.basis(fine_grid), log_target)
        best_fine = int(first_lowest(fine_objective))
        if fine_objective[best_fine] <= objective[index]:
            starts.append(profile.parameters(fine_grid[best_fine], fine_coefficients[best_fine]))
        else:
            starts.append(profile.parameters(grid[index], coefficients[index]))
    best = polish_huber(residuals, jacobian, starts, bounds, inside_first=inside_first)
    best.n_grid = len(grid)
    return best


def _refined_axes(axes: Sequence[np.ndarray], position: Sequence[int], refine_points: int) -> list[np.ndarray]:
    """Finer grids between the neighbours of ``position`` on each axis (the point itself if 1)."""
    return [
        np.linspace(axis[max(i - 1, 0)], axis[min(i + 1, len(axis) - 1)], refine_points)
        if refine_points > 1 else axis[i:i + 1]
        for axis, i in zip(axes, position)
    ]


def bootstrap_by_profile(
    profile: Profile,
    log_target: np.ndarray,
    *,
    counts: np.ndarray,
    levels: int = BOOTSTRAP_LEVELS,
) -> np.ndarray:
    """Refit every bootstrap resample at once: the profile of :func:`fit_by_profile` as one array computation.

    A resample is the fitted points weighted by how often it drew them (``counts``).
    For all resamples together, the amplitudes are profiled (:func:`profile_amplitudes`,
    :data:`COARSE_ITERATIONS` steps: enough to rank the grid points) on the whole grid.
    Each resample's best point is then bracketed by its neighbours, and the bracket profiled
    on 5 points per axis and narrowed to the neighbours of the best, ``levels`` times
    (each halves it). The best point of the last level is the resample's fit. There is
    no polish: a resample's exponents are exact to ``2**-levels`` of a grid step, far
    below their spread across resamples, and its amplitudes are exact given them.

    Parameters
    ----------
    profile, log_target
        As for :func:`fit_by_profile`.
    counts
        Shape ``(R, n)``: draws of each point in each of the ``R`` resamples.
    levels
        Halvings of the bracket.

    Returns
    -------
    numpy.ndarray
        Shape ``(R, p)``: each resample's full parameter vector.
    """
    counts = np.asarray(counts, dtype=float)[:, None, :]
    local_axes = [np.asarray(axis, dtype=float) for axis in profile.axes]
    grid = np.array(list(itertools.product(*local_axes)))
    _, objective = profile_amplitudes(
        profile.basis(grid)[None], log_target, counts=counts, n_iterations=COARSE_ITERATIONS
    )
    positions = np.unravel_index(first_lowest(objective, axis=1), [len(axis) for axis in local_axes])
    # brackets[r, k] = (low, high) of exponent k for resample r: the neighbours of its best point
    brackets = np.stack([
        np.stack([axis[np.maximum(i - 1, 0)], axis[np.minimum(i + 1, len(axis) - 1)]], axis=-1)
        for axis, i in zip(local_axes, positions)
    ], axis=1)
    steps = np.linspace(0.0, 1.0, 5)
    offsets = np.array(list(itertools.product(range(5), repeat=len(local_axes))))  # (F, q) indices
    for _ in range(levels):
        # (R, F, q): every point of each resample's bracket grid
        fine = brackets[:, None, :, 0] + steps[offsets][None] * (brackets[:, None, :, 1] - brackets[:, None, :, 0])
        n_resamples, n_fine, n_exponents = fine.shape
        fine_basis = profile.basis(fine.reshape(-1, n_exponents))
        fine_basis = fine_basis.reshape(n_resamples, n_fine, *fine_basis.shape[1:])
        coefficients, objective = profile_amplitudes(fine_basis, log_target, counts=counts)
        best = first_lowest(objective, axis=1)
        chosen = offsets[best]  # (R, q) index of the best point on each axis
        width = brackets[..., 1] - brackets[..., 0]
        low = brackets[..., 0] + steps[np.maximum(chosen - 1, 0)] * width
        high = brackets[..., 0] + steps[np.minimum(chosen + 1, 4)] * width
        brackets = np.stack([low, high], axis=-1)
    rows = np.arange(len(best))
    return np.array([
        profile.parameters(fine[row, index], coefficients[row, index]) for row, index in zip(rows, best)
    ])
