"""Tests of the broken neural scaling law (Eq. 1) on synthetic data from known parameters."""

import numpy as np
import pytest
from synthetic import scattered_accuracy

from scalelib.laws.bnsl import (
    bnsl_bounds,
    bnsl_log_residuals,
    bnsl_log_residuals_jacobian,
    fit_bnsl,
)
from scalelib.data.normalise import (
    REFERENCE_COMPUTE,
    ScalingDataError,
    accuracy_from_neg_log_q,
    fit_huber_from_starts,
    huber_loss,
    log_compute_offset,
    neg_log_q,
)

TRUTH = {"a": 0.1, "b": 1.35 * 1e21**0.05, "c0": 0.05, "c1": 0.55, "d1": 1e21, "f1": 0.5}
CHANCE = 0.25
COMPUTE = np.logspace(18, 23, 20)


def bnsl_neg_log_q(compute, a, b, c0, c1, d1, f1):
    """Eq. 1 written as in the paper: a + b C^-c0 (1 + (C/d1)^(1/f1))^(-c1 f1)."""
    return a + b * compute**-c0 * (1 + (compute / d1) ** (1 / f1)) ** (-c1 * f1)


TRUE_NEG_LOG_Q = bnsl_neg_log_q(COMPUTE, **TRUTH)
"""-log Q of Eq. 1 with TRUTH at COMPUTE, scattered into synthetic accuracies by the tests."""


def test_noiseless_recovery():
    result = fit_bnsl(COMPUTE, scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE), chance=CHANCE)
    assert result.objective < 1e-12
    for name, truth in TRUTH.items():
        assert getattr(result, name) == pytest.approx(truth, rel=1e-3), name
    assert result.n_points == len(COMPUTE)


def test_noisy_fit_tracks_the_curve():
    accuracy = scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE, scatter=0.01, seed=1)
    result = fit_bnsl(COMPUTE, accuracy, chance=CHANCE)
    truth = accuracy_from_neg_log_q(TRUE_NEG_LOG_Q, CHANCE)
    assert np.max(np.abs(result.predict(COMPUTE) - truth)) < 0.01
    assert result.c0 + result.c1 == pytest.approx(TRUTH["c0"] + TRUTH["c1"], abs=0.15)


def test_predict_matches_the_papers_form_of_the_fitted_parameters():
    result = fit_bnsl(COMPUTE, scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE, scatter=0.01, seed=2), chance=CHANCE)
    new_compute = np.array([3e17, 5e23])
    parameters = {name: getattr(result, name) for name in TRUTH}
    expected = accuracy_from_neg_log_q(bnsl_neg_log_q(new_compute, **parameters), CHANCE)
    assert result.predict(new_compute) == pytest.approx(expected, rel=1e-9)


def test_fit_is_deterministic():
    accuracy = scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE, scatter=0.01, seed=3)
    first = fit_bnsl(COMPUTE, accuracy, chance=CHANCE)
    second = fit_bnsl(COMPUTE, accuracy, chance=CHANCE)
    assert np.array_equal(first.optimize_result.x, second.optimize_result.x)


def test_jacobian_matches_finite_differences():
    x = log_compute_offset(COMPUTE)
    log_target = np.log(bnsl_neg_log_q(COMPUTE, **TRUTH))
    parameters = np.array([0.2, 0.1, 0.1, 0.8, -1.0, np.log(0.7)])
    jacobian = bnsl_log_residuals_jacobian(parameters, x, log_target)
    step = 1e-7
    numerical = np.column_stack([
        (bnsl_log_residuals(parameters + step * e, x, log_target)
         - bnsl_log_residuals(parameters - step * e, x, log_target)) / (2 * step)
        for e in np.eye(6)
    ])
    assert jacobian == pytest.approx(numerical, rel=1e-6, abs=1e-9)


def test_bad_inputs_are_refused():
    with pytest.raises(ScalingDataError, match="5 given, but this law has 6 parameters"):
        fit_bnsl(COMPUTE[:5], scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE)[:5], chance=CHANCE)
    with pytest.raises(ScalingDataError, match="Non-positive compute"):
        fit_bnsl(-COMPUTE, scattered_accuracy(TRUE_NEG_LOG_Q, CHANCE), chance=CHANCE)


def true_parameters(truth: dict) -> np.ndarray:
    """TRUTH-like paper parameters in the fitted parametrisation ``(a, log b_ref, c0, s, log d_ref, log f1)``."""
    return np.array([
        truth["a"], np.log(truth["b"]) - truth["c0"] * np.log(REFERENCE_COMPUTE), truth["c0"],
        truth["c0"] + truth["c1"], np.log(truth["d1"] / REFERENCE_COMPUTE), np.log(truth["f1"]),
    ])


@pytest.mark.parametrize("seed", [4, 5, 6])
@pytest.mark.parametrize("truth", [
    TRUTH,  # steepening, smooth bend, floor
    {"a": 0.0, "b": 2.0 * 1e21**0.4, "c0": 0.4, "c1": -0.3, "d1": 3e20, "f1": 0.1},  # flattening kink, no floor
], ids=["steepening", "flattening"])
def test_global_fit_is_no_worse_than_a_multi_start_from_the_truth(truth, seed):
    """Synthetic noisy runs from a known BNSL: the fit reaches a loss no higher than the
    former continuation fit started from the true parameters themselves, and recovers the curve."""
    compute = np.logspace(18, 23, 30)
    neg_log_q_true = bnsl_neg_log_q(compute, **truth)
    accuracy = scattered_accuracy(neg_log_q_true, CHANCE, scatter=0.01, seed=seed)
    result = fit_bnsl(compute, accuracy, chance=CHANCE)

    x = log_compute_offset(compute)
    log_target = np.log(neg_log_q(accuracy, CHANCE))
    from_truth = fit_huber_from_starts(
        lambda p: bnsl_log_residuals(p, x, log_target),
        lambda p: bnsl_log_residuals_jacobian(p, x, log_target),
        [true_parameters(truth)], bounds=bnsl_bounds(x),
    )
    assert result.objective <= huber_loss(from_truth.fun) * (1 + 1e-9)
    truth_accuracy = accuracy_from_neg_log_q(neg_log_q_true, CHANCE)
    assert np.max(np.abs(result.predict(compute) - truth_accuracy)) < 0.01
