"""Tests of chance normalisation, input validation and the shared fitting helpers."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import least_squares

from scalelib.data.normalise import (
    REFERENCE_COMPUTE,
    ScalingDataError,
    accuracy_from_neg_log_q,
    chance_denormalise,
    chance_normalise,
    covariance_from_jacobian,
    drop_at_or_below_chance,
    fit_huber_from_starts,
    huber_loss,
    huber_loss_gradient,
    neg_log_q,
    uncentre_amplitude,
    validate_law_inputs,
)

COMPUTE = np.array([1e18, 1e19, 1e20, 1e21])
ACCURACY = np.array([0.3, 0.4, 0.5, 0.6])


def test_chance_normalisation_maps_chance_to_zero_and_one_to_one():
    assert chance_normalise([0.25, 1.0, 0.625], 0.25) == pytest.approx([0.0, 1.0, 0.5])
    assert chance_denormalise([0.0, 1.0, 0.5], 0.25) == pytest.approx([0.25, 1.0, 0.625])


def test_neg_log_q_and_its_inverse_round_trip():
    accuracy = np.array([0.55, 0.7, 0.99])
    y = neg_log_q(accuracy, 0.5)
    assert y == pytest.approx(-np.log((accuracy - 0.5) / 0.5))
    assert accuracy_from_neg_log_q(y, 0.5) == pytest.approx(accuracy)


def test_valid_inputs_come_back_as_float_arrays():
    compute, accuracy = validate_law_inputs(
        list(COMPUTE), list(ACCURACY), chance=0.25, n_parameters=2
    )
    assert compute.dtype == float and accuracy.dtype == float
    assert accuracy == pytest.approx(ACCURACY)


@pytest.mark.parametrize(
    ("compute", "accuracy", "chance", "match"),
    [
        (COMPUTE[:3], ACCURACY, 0.25, "Mismatched lengths: 3 compute values and 4 accuracies"),
        ([1e18, np.nan, 1e20, 1e21], ACCURACY, 0.25, "NaN in compute at index 1"),
        (COMPUTE, [0.3, 0.4, np.nan, 0.6], 0.25, "NaN in accuracy at index 2"),
        (COMPUTE, ACCURACY, np.nan, "Chance level is NaN"),
        (COMPUTE, ACCURACY, 1.0, r"Chance level must lie in \[0, 1\)"),
        ([1e18, 0.0, -1.0, 1e21], ACCURACY, 0.25, "Non-positive compute at index 1, 2"),
        (COMPUTE, [0.3, 0.4, 0.5, 1.0], 0.25, "Accuracy >= 1 at index 3"),
        (COMPUTE, [0.2, 0.25, 0.5, 0.6], 0.25, r"at or below chance \(0.25\) at index 0, 1"),
        (COMPUTE[:2], ACCURACY[:2], 0.25, "2 given, but this law has 3 parameters"),
    ],
)
def test_each_bad_input_is_refused_with_its_own_message(compute, accuracy, chance, match):
    with pytest.raises(ScalingDataError, match=match):
        validate_law_inputs(compute, accuracy, chance=chance, n_parameters=3)


def test_bad_points_are_named_by_run_id_and_caller_is_told_to_drop_them():
    with pytest.raises(ScalingDataError, match="run 'small'.*drop_at_or_below_chance"):
        validate_law_inputs(
            COMPUTE, [0.2, 0.4, 0.5, 0.6], chance=0.25, n_parameters=2,
            labels=["small", "medium", "large", "huge"],
        )
    with pytest.raises(ScalingDataError, match="and 3 labels"):
        validate_law_inputs(COMPUTE, ACCURACY, chance=0.25, n_parameters=2, labels=["a"] * 3)


def test_too_few_points_says_how_many_are_needed():
    with pytest.raises(ScalingDataError, match="needs at least 6 points"):
        validate_law_inputs(COMPUTE, ACCURACY, chance=0.25, n_parameters=6)


def test_scaling_data_error_is_a_value_error():
    assert issubclass(ScalingDataError, ValueError)


def test_drop_at_or_below_chance_splits_and_keeps_index():
    frame = pd.DataFrame(
        {"run": list("abcd"), "value": [0.2, 0.25, 0.3, 0.9], "chance": [0.25, 0.25, 0.25, 0.5]},
        index=[10, 11, 12, 13],
    )
    kept, dropped = drop_at_or_below_chance(frame)
    assert list(kept["run"]) == ["c", "d"]
    assert list(dropped["run"]) == ["a", "b"]
    assert list(dropped.index) == [10, 11]


def test_huber_loss_by_hand():
    # |r| <= delta: r^2 / 2; beyond: delta * (|r| - delta / 2).
    residuals = np.array([0.0005, 0.002, -0.003])
    expected = 0.5 * 0.0005**2 + 1e-3 * (0.002 - 0.0005) + 1e-3 * (0.003 - 0.0005)
    assert huber_loss(residuals, delta=1e-3) == pytest.approx(expected, rel=1e-12)


def test_huber_loss_is_the_cost_least_squares_minimises():
    rng = np.random.default_rng(0)  # synthetic residuals
    target = rng.normal(0.0, 0.01, 20)
    result = least_squares(lambda p: p[0] - target, [0.5], loss="huber", f_scale=1e-3)
    assert result.cost == pytest.approx(huber_loss(result.fun), rel=1e-12)


def test_huber_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)  # synthetic linear residuals r = X p - t
    design = rng.normal(size=(15, 3))
    target = rng.normal(0.0, 0.01, 15)
    parameters = np.array([0.001, -0.002, 0.0005])
    gradient = huber_loss_gradient(design @ parameters - target, design)
    step = 1e-8
    numerical = [
        (huber_loss(design @ (parameters + step * e) - target)
         - huber_loss(design @ (parameters - step * e) - target)) / (2 * step)
        for e in np.eye(3)
    ]
    assert gradient == pytest.approx(numerical, rel=1e-5, abs=1e-12)


def test_fit_huber_from_starts_keeps_the_best_start():
    # Synthetic: residuals sin(p) - 0.5 have minima at p = pi/6 + 2 pi k; bounds pick one.
    bounds = (np.array([-10.0]), np.array([10.0]))
    result = fit_huber_from_starts(
        lambda p: np.array([np.sin(p[0]) - 0.5, 0.01 * p[0]]),
        lambda p: np.array([[np.cos(p[0])], [0.01]]),
        [np.array([6.5]), np.array([0.4])],
        bounds,
    )
    assert result.n_starts == 2
    assert result.x[0] == pytest.approx(np.pi / 6, abs=0.05)  # the start near 0 wins


def test_covariance_from_jacobian_is_ols_covariance():
    rng = np.random.default_rng(2)  # synthetic regression
    design = np.column_stack([np.ones(10), rng.normal(size=10)])
    residuals = rng.normal(size=10)
    expected = np.sum(residuals**2) / 8 * np.linalg.inv(design.T @ design)
    assert covariance_from_jacobian(design, residuals) == pytest.approx(expected)
    assert np.isnan(covariance_from_jacobian(design[:2], residuals[:2])).all()
    collinear = np.column_stack([design, 2 * design[:, 1]])
    assert np.isnan(covariance_from_jacobian(collinear, residuals)).all()


def test_uncentre_amplitude_moves_amplitude_to_unit_compute():
    log_A_ref, alpha = 0.3, 0.2
    covariance = np.array([[0.01, 0.002], [0.002, 0.0009]])
    log_A, uncentred = uncentre_amplitude(log_A_ref, alpha, covariance)
    # A_ref (C / C_ref)^-alpha == A C^-alpha at any C.
    compute = 3e19
    assert np.exp(log_A) * compute**-alpha == pytest.approx(
        np.exp(log_A_ref) * (compute / REFERENCE_COMPUTE) ** -alpha
    )
    L = np.log(REFERENCE_COMPUTE)
    assert uncentred[0, 0] == pytest.approx(0.01 + 2 * L * 0.002 + L**2 * 0.0009)
    assert uncentred[1, 1] == pytest.approx(0.0009)
