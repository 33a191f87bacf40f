"""Variable projection for the robust laws: closed-form amplitudes, grid minima, polish.

All data here are synthetic, generated in the tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import noisy

from scalelib.data.normalise import huber_loss
from scalelib.laws.profile_fit import (
    first_lowest, grid_local_minima, huber_objective, polish_huber, profile_amplitudes, tie_order,
)
from scalelib.laws.saturating_law import fit_saturating_law

X = np.linspace(-5.0, 2.0, 30)


def _two_term_basis(alphas: np.ndarray) -> np.ndarray:
    """``exp(-alpha x)`` and 1, for a batch of exponents: the basis of Eq. 6."""
    power = np.exp(-np.asarray(alphas)[:, None] * X[None, :])
    return np.stack([power, np.ones_like(power)], axis=-1)


@pytest.mark.parametrize("amplitudes", [(0.8, 0.3), (1.5, 0.0), (0.0, 0.4)])
def test_profile_recovers_exact_amplitudes_including_at_their_bound(amplitudes):
    basis = _two_term_basis([0.3])
    log_target = np.log(basis[0] @ np.array(amplitudes))
    coefficients, objective = profile_amplitudes(basis, log_target)
    assert coefficients[0] == pytest.approx(amplitudes, abs=1e-9)
    assert objective[0] < 1e-16


def test_profile_is_robust_to_one_outlier():
    """Huber weights: one wild point barely moves the amplitudes (least squares would)."""
    basis = _two_term_basis([0.3])
    log_target = np.log(basis[0] @ np.array([0.8, 0.3]))
    log_target[5] += 1.0
    coefficients, _ = profile_amplitudes(basis, log_target, n_iterations=30)
    assert coefficients[0] == pytest.approx([0.8, 0.3], rel=2e-3)


def test_profile_objective_is_the_huber_loss():
    basis = _two_term_basis([0.1, 0.5])
    log_target = noisy(np.log(basis[1] @ np.array([0.5, 0.2])), 0.01, seed=0)
    coefficients, objective = profile_amplitudes(basis, log_target)
    for row in range(2):
        residuals = np.log(basis[row] @ coefficients[row]) - log_target
        assert objective[row] == pytest.approx(huber_loss(residuals), rel=1e-12)
    assert objective[1] < objective[0]  # the true exponent profiles lower


def test_huber_objective_marks_undefined_residuals_infinite():
    assert huber_objective(np.array([[0.0, np.nan], [0.0, 0.0]])).tolist() == [np.inf, 0.0]


def test_grid_local_minima_finds_every_basin_in_order():
    objective = np.array([[5.0, 4.0, 6.0, 7.0], [6.0, 5.0, 6.0, 1.0], [2.0, 6.0, 6.0, 3.0]])
    # local minima: (1, 3) = 1.0, (2, 0) = 2.0, (0, 1) = 4.0; (2, 3) = 3.0 has the lower (1, 3) beside it
    assert grid_local_minima(objective, 3).tolist() == [7, 8, 1]
    assert grid_local_minima(objective, 1).tolist() == [7]
    assert grid_local_minima(np.full((2, 2), np.inf), 3).tolist() == [0]


def test_saturating_fit_finds_the_global_optimum_of_a_two_basin_problem():
    """A floor and a steep power law, or no floor and a shallow one: the data decide."""
    compute = 1e21 * np.exp(X)
    accuracy = noisy(0.25 + 0.75 * np.exp(-(0.05 * np.exp(-0.9 * X) + 0.3)), 0.002, seed=3)
    fit = fit_saturating_law(compute, accuracy, chance=0.25)
    # a dense scan over alpha with the amplitudes profiled out finds nothing lower
    dense = np.linspace(0.0, 5.0, 5001)
    _, objective = profile_amplitudes(_two_term_basis(dense), np.log(-np.log((accuracy - 0.25) / 0.75)), n_iterations=30)
    assert fit.objective <= objective.min() * (1 + 1e-9)
    assert fit.alpha == pytest.approx(0.9, rel=0.1)


def test_first_lowest_breaks_near_ties_by_order():
    losses = np.array([[3.0, 1.0 + 1e-12, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
    assert first_lowest(losses, axis=1).tolist() == [1, 0]
    assert first_lowest(np.array([2.0, 1.0, 1.0 + 1e-6])).tolist() == 1


def test_polish_keeps_the_first_of_tied_optima():
    """Flat data on a near-L1 loss: every constant between the two middle points fits equally.

    Which of two such optima rounding makes lower differs between CPUs, so a later start
    must be lower by more than the tie tolerance to win.
    """
    data = np.array([0.0, 0.0, 1.0, 1.0])

    def problem(tilt):
        # a constant model, plus one far residual whose slope ``tilt`` favours small values
        residuals = lambda p: np.append(p[0] - data, 1.0 + tilt * p[0])  # noqa: E731
        jacobian = lambda p: np.append(np.ones(4), tilt)[:, None]  # noqa: E731
        return residuals, jacobian

    bounds = (np.array([-10.0]), np.array([10.0]))
    starts = [np.array([0.7]), np.array([0.3])]
    near_tie = polish_huber(*problem(5e-12), starts, bounds)  # the second is lower by ~1e-12 (relative)
    assert near_tie.x[0] == pytest.approx(0.7, abs=1e-6)
    clear_winner = polish_huber(*problem(1e-2), starts, bounds)
    assert clear_winner.x[0] < 0.7 - 1e-3



def test_tie_order_keeps_the_given_order_within_the_tolerance_and_puts_non_finite_last():
    losses = [2.0, 1.0 + 1e-13, np.inf, 1.0, 1.5, np.nan]
    # 1 + 1e-13 and 1 tie (relative 1e-13 < TIE_TOLERANCE): the first given comes first
    assert tie_order(losses).tolist() == [1, 3, 4, 0, 2, 5]


@pytest.mark.parametrize("centre", [2.0, -2.0])
def test_polish_without_bounds_first_finds_the_bounded_optimum(centre):
    """A line ``a + b t`` with ``b >= 0`` fitted to synthetic points around a slope ``centre``.

    With a positive slope the optimum is inside the bounds and the polish without bounds
    keeps it; with a negative one that polish leaves the box and the bounded polish decides
    (slope 0). Both ways reach the bounded optimum's loss (near-L1: the optimum itself is
    flat, so the parameters may differ within it).
    """
    t = np.linspace(-1.0, 1.0, 9)
    data = centre * t + 0.01 * np.sin(7 * t)
    residuals = lambda p: p[0] + p[1] * t - data  # noqa: E731
    jacobian = lambda p: np.column_stack([np.ones_like(t), t])  # noqa: E731
    bounds = (np.array([-10.0, 0.0]), np.array([10.0, 10.0]))
    starts = [np.array([0.5, 1.0])]
    inside = polish_huber(residuals, jacobian, starts, bounds)
    bounded = polish_huber(residuals, jacobian, starts, bounds, inside_first=False)
    assert huber_loss(inside.fun) == pytest.approx(huber_loss(bounded.fun), rel=1e-9)
    assert inside.x[1] == pytest.approx(max(centre, 0.0), abs=0.05)


def test_polish_without_bounds_holds_a_parameter_at_its_bound_only_if_that_is_optimal():
    """A slope started at its bound 0: held there when the data fall (KKT), freed when they rise."""
    t = np.linspace(-1.0, 1.0, 9)
    bounds = (np.array([-10.0, 0.0]), np.array([10.0, 10.0]))
    jacobian = lambda p: np.column_stack([np.ones_like(t), t])  # noqa: E731
    for slope in (-1.0, 1.0):
        residuals = lambda p, slope=slope: p[0] + p[1] * t - slope * t  # noqa: E731
        result = polish_huber(residuals, jacobian, [np.array([0.3, 0.0])], bounds)
        assert result.x[1] == pytest.approx(max(slope, 0.0), abs=1e-6)
