"""Tests of the direct power law (Eq. 2) on synthetic data from known parameters."""

import numpy as np
import pytest
from synthetic import noisy

from scalelib.laws.direct_law import direct_law_neg_log_q, fit_direct_law
from scalelib.data.normalise import ScalingDataError, accuracy_from_neg_log_q

TRUE_A = 750.0
TRUE_ALPHA = 0.15
CHANCE = 0.25
COMPUTE = np.logspace(18, 23, 12)


TRUE_ACCURACY = accuracy_from_neg_log_q(direct_law_neg_log_q(COMPUTE, np.log(TRUE_A), TRUE_ALPHA), CHANCE)
"""Synthetic accuracies from Eq. 2 with TRUE_A, TRUE_ALPHA at COMPUTE (tests add noise with ``noisy``)."""


@pytest.mark.parametrize("method", ["closed_form", "accuracy_space"])
def test_noiseless_recovery(method):
    result = fit_direct_law(COMPUTE, TRUE_ACCURACY, chance=CHANCE, method=method)
    assert result.A == pytest.approx(TRUE_A, rel=1e-6)
    assert result.alpha == pytest.approx(TRUE_ALPHA, rel=1e-6)
    assert result.r_squared == pytest.approx(1.0)
    assert result.rmse_points < 1e-6
    assert result.n_points == len(COMPUTE)


def test_closed_form_and_lmfit_agree_on_noiseless_data():
    accuracy = TRUE_ACCURACY
    closed = fit_direct_law(COMPUTE, accuracy, chance=CHANCE)
    lmfit_fit = fit_direct_law(COMPUTE, accuracy, chance=CHANCE, method="accuracy_space", n_items=1000)
    assert lmfit_fit.A == pytest.approx(closed.A, rel=1e-8)
    assert lmfit_fit.alpha == pytest.approx(closed.alpha, rel=1e-8)
    assert closed.lmfit_result is None
    assert "alpha" in lmfit_fit.lmfit_result.fit_report()


@pytest.mark.parametrize("method", ["closed_form", "accuracy_space"])
def test_noisy_recovery_within_standard_errors(method):
    result = fit_direct_law(COMPUTE, noisy(TRUE_ACCURACY, 0.003, seed=1), chance=CHANCE, method=method)
    assert 0 < result.alpha_stderr < 0.02
    assert abs(result.alpha - TRUE_ALPHA) < 4 * result.alpha_stderr
    assert abs(np.log(result.A) - np.log(TRUE_A)) < 4 * np.sqrt(result.covariance[0, 0])
    assert result.A_stderr == pytest.approx(result.A * np.sqrt(result.covariance[0, 0]))
    assert 0.1 < result.rmse_points < 1.0  # noise of 0.3 accuracy points


def test_closed_form_covariance_equals_uncentred_ols():
    accuracy = noisy(TRUE_ACCURACY, 0.003, seed=2)
    result = fit_direct_law(COMPUTE, accuracy, chance=CHANCE)
    design = np.column_stack([np.ones(len(COMPUTE)), -np.log(COMPUTE)])
    target = np.log(-np.log((accuracy - CHANCE) / (1 - CHANCE)))
    coefficients, residual_sum, *_ = np.linalg.lstsq(design, target, rcond=None)
    expected = residual_sum[0] / (len(COMPUTE) - 2) * np.linalg.inv(design.T @ design)
    assert np.log(result.A) == pytest.approx(coefficients[0], rel=1e-9)
    assert result.alpha == pytest.approx(coefficients[1], rel=1e-9)
    assert result.covariance == pytest.approx(expected, rel=1e-6)
    total = np.sum((target - target.mean()) ** 2)
    assert result.r_squared == pytest.approx(1 - residual_sum[0] / total)


def test_binomial_weights_are_used_by_lmfit():
    accuracy = noisy(TRUE_ACCURACY, 0.003, seed=3)
    n_items = np.full(len(COMPUTE), 500.0)
    weighted = fit_direct_law(COMPUTE, accuracy, chance=CHANCE, method="accuracy_space", n_items=n_items)
    unweighted = fit_direct_law(COMPUTE, accuracy, chance=CHANCE, method="accuracy_space")
    assert weighted.lmfit_result.weights == pytest.approx(1 / np.sqrt(accuracy * (1 - accuracy) / 500))
    assert weighted.alpha != pytest.approx(unweighted.alpha, rel=1e-6)


def test_predict_returns_raw_accuracy_at_new_compute():
    result = fit_direct_law(COMPUTE, TRUE_ACCURACY, chance=CHANCE)
    new_compute = np.array([3e23, 1e24])
    expected = CHANCE + (1 - CHANCE) * np.exp(-TRUE_A * new_compute**-TRUE_ALPHA)
    assert result.predict(new_compute) == pytest.approx(expected, rel=1e-8)


def test_two_points_fit_exactly_with_undefined_errors():
    result = fit_direct_law(COMPUTE[:2], TRUE_ACCURACY[:2], chance=CHANCE)
    assert result.alpha == pytest.approx(TRUE_ALPHA)
    assert np.isnan(result.alpha_stderr)


def test_bad_arguments_are_refused():
    accuracy = TRUE_ACCURACY
    with pytest.raises(ValueError, match="only used by method='accuracy_space'"):
        fit_direct_law(COMPUTE, accuracy, chance=CHANCE, n_items=100)
    with pytest.raises(ValueError, match="Unknown method 'newton'"):
        fit_direct_law(COMPUTE, accuracy, chance=CHANCE, method="newton")
    with pytest.raises(ScalingDataError, match="n_items must be positive"):
        fit_direct_law(COMPUTE, accuracy, chance=CHANCE, method="accuracy_space", n_items=0)
    with pytest.raises(ScalingDataError, match="Mismatched lengths: 3 n_items for 12 accuracies"):
        fit_direct_law(COMPUTE, accuracy, chance=CHANCE, method="accuracy_space", n_items=[100] * 3)
    with pytest.raises(ScalingDataError, match="needs at least 2 points"):
        fit_direct_law(COMPUTE[:1], accuracy[:1], chance=CHANCE)
    below = accuracy.copy()
    below[0] = 0.2
    labels = [f"run{i}" for i in range(len(COMPUTE))]
    with pytest.raises(ScalingDataError, match="run 'run0'"):
        fit_direct_law(COMPUTE, below, chance=CHANCE, labels=labels)
