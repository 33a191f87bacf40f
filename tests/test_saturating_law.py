"""Tests of the saturating power law (Eq. 6) on synthetic data from known parameters."""

import numpy as np
import pytest
from synthetic import scattered_accuracy

from scalelib.data.normalise import (
    ScalingDataError,
    accuracy_from_neg_log_q,
    log_compute_offset,
)
from scalelib.laws.saturating_law import (
    ALPHA_GRID,
    fit_saturating_law,
    saturating_log_residuals,
    saturating_log_residuals_jacobian,
)

TRUE_A = 2000.0
TRUE_ALPHA = 0.2
TRUE_E = 0.15
CHANCE = 0.25
COMPUTE = np.logspace(18, 23, 15)


TRUE_NEG_LOG_Q = TRUE_A * COMPUTE**-TRUE_ALPHA + TRUE_E
"""-log Q of Eq. 6 with the true parameters at COMPUTE, scattered into synthetic accuracies by the tests."""


def test_noiseless_recovery():
    result = fit_saturating_law(COMPUTE, scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE), chance=CHANCE)
    assert result.A == pytest.approx(TRUE_A, rel=1e-4)
    assert result.alpha == pytest.approx(TRUE_ALPHA, rel=1e-5)
    assert result.E == pytest.approx(TRUE_E, rel=1e-4)
    assert result.objective < 1e-12
    assert result.ceiling_accuracy == pytest.approx(CHANCE + (1 - CHANCE) * np.exp(-TRUE_E), rel=1e-5)
    assert result.n_points == len(COMPUTE)
    assert result.n_starts == result.optimize_result.n_starts >= 1
    assert result.optimize_result.n_grid == len(ALPHA_GRID)


def test_noisy_recovery_within_standard_errors():
    result = fit_saturating_law(COMPUTE, scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE, scatter=0.01, seed=1), chance=CHANCE)
    assert result.alpha == pytest.approx(TRUE_ALPHA, abs=0.05)
    assert result.E == pytest.approx(TRUE_E, abs=0.05)
    for value, truth, stderr in [
        (result.alpha, TRUE_ALPHA, result.alpha_stderr),
        (result.E, TRUE_E, result.E_stderr),
    ]:
        assert 0 < stderr < 0.1
        assert abs(value - truth) < 4 * stderr
    assert result.A_stderr == pytest.approx(result.A * np.sqrt(result.covariance[0, 0]))


def test_pure_power_law_gives_zero_floor_and_perfect_ceiling():
    result = fit_saturating_law(COMPUTE, scattered_accuracy(TRUE_A * COMPUTE**-TRUE_ALPHA, CHANCE), chance=CHANCE)
    assert result.E == pytest.approx(0.0, abs=1e-6)
    assert result.alpha == pytest.approx(TRUE_ALPHA, rel=1e-4)
    assert result.ceiling_accuracy == pytest.approx(1.0, abs=1e-6)


def test_robust_loss_ignores_one_outlier():
    accuracy = scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE)
    accuracy[7] -= 0.05  # synthetic outlier, 5 accuracy points low
    result = fit_saturating_law(COMPUTE, accuracy, chance=CHANCE)
    assert result.alpha == pytest.approx(TRUE_ALPHA, rel=1e-2)
    assert result.E == pytest.approx(TRUE_E, rel=1e-2)


def test_predict_returns_raw_accuracy():
    result = fit_saturating_law(COMPUTE, scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE), chance=CHANCE)
    new_compute = np.array([1e24, 1e26])
    expected = accuracy_from_neg_log_q(TRUE_A * new_compute**-TRUE_ALPHA + TRUE_E, CHANCE)
    assert result.predict(new_compute) == pytest.approx(expected, rel=1e-5)


def test_jacobian_matches_finite_differences():
    x = log_compute_offset(COMPUTE)
    log_target = np.log(TRUE_A * COMPUTE**-TRUE_ALPHA + TRUE_E)
    parameters = np.array([-1.2, 0.3, 0.05])
    jacobian = saturating_log_residuals_jacobian(parameters, x, log_target)
    step = 1e-7
    numerical = np.column_stack([
        (saturating_log_residuals(parameters + step * e, x, log_target)
         - saturating_log_residuals(parameters - step * e, x, log_target)) / (2 * step)
        for e in np.eye(3)
    ])
    assert jacobian == pytest.approx(numerical, rel=1e-6, abs=1e-9)


def test_bad_inputs_are_refused():
    with pytest.raises(ScalingDataError, match="needs at least 3 points"):
        fit_saturating_law(COMPUTE[:2], scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE)[:2], chance=CHANCE)
    with pytest.raises(ScalingDataError, match="Accuracy >= 1"):
        fit_saturating_law(COMPUTE[:3], [0.5, 0.7, 1.0], chance=CHANCE)
