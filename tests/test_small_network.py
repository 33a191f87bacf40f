"""The random-feature network behind FLP-M: a global optimum, the same on every run.

All data here are synthetic, generated in the tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import regression_data

from scalelib.laws.small_network import HIDDEN_UNITS, PENALTY_GRID, fit_small_network


def test_output_layer_is_the_ridge_optimum_at_the_chosen_penalty():
    inputs, target = regression_data()
    network = fit_small_network(inputs, target, seed=3)
    features = network.features(inputs)
    standard = (target - network.target_mean) / network.target_scale
    centred = features - features.mean(axis=0)
    expected = np.linalg.solve(
        centred.T @ centred + network.penalty * np.eye(HIDDEN_UNITS), centred.T @ (standard - standard.mean())
    )
    assert network.output_weights == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert network.penalty in PENALTY_GRID


def test_penalty_is_chosen_by_leave_one_out():
    """The chosen penalty's leave-one-out error, refitted point by point, is the lowest of the grid."""
    inputs, target = regression_data(n=20)
    chosen = fit_small_network(inputs, target, seed=1)

    def loo_error(penalty: float) -> float:
        errors = []
        for left_out in range(len(target)):
            keep = np.arange(len(target)) != left_out
            features = chosen.features(inputs)
            mean = features[keep].mean(axis=0)
            centred = features[keep] - mean
            standard = (target[keep] - chosen.target_mean) / chosen.target_scale
            weights = np.linalg.solve(centred.T @ centred + penalty * np.eye(HIDDEN_UNITS), centred.T @ (standard - standard.mean()))
            prediction = standard.mean() + (features[left_out] - mean) @ weights
            errors.append(prediction - (target[left_out] - chosen.target_mean) / chosen.target_scale)
        return float(np.mean(np.square(errors)))

    others = [p for p in (PENALTY_GRID[0], PENALTY_GRID[12], PENALTY_GRID[-1]) if p != chosen.penalty]
    assert all(loo_error(chosen.penalty) <= loo_error(p) for p in others)


def test_same_seed_same_network_other_seed_other_features():
    inputs, target = regression_data()
    first, again = fit_small_network(inputs, target, seed=0), fit_small_network(inputs, target, seed=0)
    other = fit_small_network(inputs, target, seed=1)
    assert np.array_equal(first.predict(inputs), again.predict(inputs))
    assert not np.array_equal(first.hidden_weights, other.hidden_weights)
    assert np.sqrt(np.mean((first.predict(inputs) - target) ** 2)) < 0.2


def test_a_constant_input_column_does_not_break_the_fit():
    inputs, target = regression_data()
    inputs[:, 2] = 1.0
    assert np.isfinite(fit_small_network(inputs, target, seed=0).predict(inputs)).all()
