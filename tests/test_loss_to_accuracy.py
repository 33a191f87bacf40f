"""Tests of the stage-2 maps from loss to accuracy on synthetic data (fixed seeds)."""

import warnings

import lmfit
import numpy as np
import pytest
from synthetic import domain_losses, logistic_accuracy, noisy

from scalelib.laws.loss_to_accuracy import (
    FLP_M_SEEDS,
    emerged_runs,
    fit_flp_m_map,
    fit_flp_map,
    fit_linear_map,
    fit_logistic_map,
    validate_map_inputs,
)
from scalelib.data.normalise import ScalingDataError

LOSS = np.linspace(3.8, 2.0, 30)
CHANCE = 0.25
TRUE_CEILING, TRUE_K, TRUE_L0 = 0.9, 4.0, 2.6


TRUE_ACCURACY = logistic_accuracy(LOSS, CHANCE, TRUE_CEILING, TRUE_K, TRUE_L0)
"""Synthetic accuracies on the logistic map (floor at chance) at LOSS (tests add noise with ``noisy``)."""


def test_linear_map_recovers_line_and_reports_ols_errors():
    accuracy = noisy(1.2 - 0.3 * LOSS, 0.005, seed=0)
    fit = fit_linear_map(LOSS, accuracy, chance=CHANCE)
    assert abs(fit.b + 0.3) < 4 * fit.b_stderr
    assert abs(fit.a - 1.2) < 4 * fit.a_stderr
    assert 0 < fit.b_stderr < 0.01
    assert fit.emergence_loss == np.inf and fit.n_points == len(LOSS)
    assert fit.predict([1.0]) == pytest.approx(fit.a + fit.b)


def test_logistic_map_recovers_parameters_from_noiseless_data():
    fit = fit_logistic_map(LOSS, TRUE_ACCURACY, chance=CHANCE)
    assert fit.floor == CHANCE
    assert fit.ceiling == pytest.approx(TRUE_CEILING, rel=1e-5)
    assert fit.k == pytest.approx(TRUE_K, rel=1e-5)
    assert fit.L0 == pytest.approx(TRUE_L0, rel=1e-5)
    assert fit.rmse_points < 1e-4


def test_logistic_map_noisy_recovery_within_standard_errors():
    fit = fit_logistic_map(LOSS, noisy(TRUE_ACCURACY, 0.005, seed=3), chance=CHANCE)
    for value, stderr, truth in [
        (fit.ceiling, fit.ceiling_stderr, TRUE_CEILING), (fit.k, fit.k_stderr, TRUE_K), (fit.L0, fit.L0_stderr, TRUE_L0)
    ]:
        assert 0 < stderr and abs(value - truth) < 4 * stderr


def test_logistic_ceiling_is_bounded_by_one_and_predict_never_overflows():
    rising = CHANCE + 0.7 * (LOSS.max() - LOSS) / np.ptp(LOSS)  # a line to 0.95, crossing 1 beyond the data
    fit = fit_logistic_map(LOSS, rising, chance=CHANCE)
    assert fit.ceiling == pytest.approx(1.0)
    assert np.isnan(fit.ceiling_stderr)  # at its bound: no meaningful error
    assert np.isfinite(fit.k_stderr) and np.isfinite(fit.L0_stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would raise here
        extreme = fit.predict(np.array([-1e4, 1e4]))
    assert extreme == pytest.approx([fit.ceiling, CHANCE])


def test_emerged_runs_requires_every_lower_loss_to_be_above_the_threshold():
    """Constructed: a noisy blip above chance + margin at loss 3.6, a dip at 3.2, emergence from 3.0 on."""
    loss = np.array([3.8, 3.6, 3.4, 3.2, 3.0, 2.8, 2.6])
    accuracy = np.array([0.25, 0.31, 0.27, 0.29, 0.31, 0.36, 0.42])
    past = emerged_runs(loss, accuracy, chance=0.25, margin=0.05)
    assert past.tolist() == [False, False, False, False, True, True, True]
    shuffled = np.random.default_rng(0).permutation(len(loss))
    assert (emerged_runs(loss[shuffled], accuracy[shuffled], chance=0.25, margin=0.05) == past[shuffled]).all()
    lower_margin = emerged_runs(loss, accuracy, chance=0.25, margin=0.03)
    assert lower_margin.tolist() == [False, False, False, True, True, True, True]
    assert not emerged_runs(loss, accuracy, chance=0.25, margin=0.2).any()


def test_flp_fits_the_line_past_emergence_only():
    """Synthetic: flat at chance before loss 3.0, a line after it; FLP recovers the line, plain OLS does not."""
    line = 0.25 + 0.5 * (3.0 - LOSS)
    accuracy = np.where(LOSS > 3.0, CHANCE, line)
    flp = fit_flp_map(LOSS, accuracy, chance=CHANCE, emergence_margin=0.05)
    emerged = accuracy > CHANCE + 0.05
    assert flp.n_points == emerged.sum()
    assert flp.emergence_loss == pytest.approx(LOSS[emerged].max())
    assert flp.b == pytest.approx(-0.5, rel=1e-9)
    assert flp.a == pytest.approx(1.75, rel=1e-9)
    assert fit_linear_map(LOSS, accuracy, chance=CHANCE).b > -0.45
    assert fit_flp_map(LOSS, accuracy, chance=CHANCE, emergence_margin=0.3).n_points < flp.n_points


def test_flp_refuses_benchmarks_without_three_emerged_runs():
    accuracy = np.full(len(LOSS), CHANCE + 0.01)
    accuracy[-2:] = 0.5
    with pytest.raises(ScalingDataError, match="Too few runs past the emergence point.*run 'r28', 'r29'"):
        fit_flp_map(LOSS, accuracy, chance=CHANCE, labels=[f"r{i}" for i in range(len(LOSS))])


DOMAIN_LOSSES = domain_losses(np.linspace(3.8, 2.2, 30), noise=0.02)
"""Three correlated synthetic domain losses (the second one exact)."""
DOMAIN_ACCURACY = 1.5 - 0.2 * DOMAIN_LOSSES[:, 0] - 0.15 * DOMAIN_LOSSES[:, 1]
"""Synthetic accuracy depending on two of the DOMAIN_LOSSES."""


def test_flp_m_is_deterministic_under_its_seeds_and_fits_the_data():
    losses, accuracy = DOMAIN_LOSSES, DOMAIN_ACCURACY
    first = fit_flp_m_map(losses, accuracy, chance=0.0)
    again = fit_flp_m_map(losses, accuracy, chance=0.0)
    other_seeds = fit_flp_m_map(losses, accuracy, chance=0.0, seeds=(5, 6))
    new_losses = losses[-3:] - 0.1
    assert np.array_equal(first.predict(new_losses), again.predict(new_losses))
    assert not np.array_equal(first.predict(new_losses), other_seeds.predict(new_losses))
    assert first.rmse_points < 1.0 and first.n_points == 30
    assert first.predict(losses[0]).shape == (1,)
    each = first.predict_each(new_losses)
    assert each.shape == (len(FLP_M_SEEDS), 3)
    assert first.predict(new_losses) == pytest.approx(each.mean(axis=0))


def test_flp_m_needs_two_dimensional_losses_and_a_seed():
    losses, accuracy = DOMAIN_LOSSES, DOMAIN_ACCURACY
    with pytest.raises(ScalingDataError, match="2-d array of losses"):
        fit_flp_m_map(losses[:, 0], accuracy, chance=0.0)
    with pytest.raises(ValueError, match="at least one seed"):
        fit_flp_m_map(losses, accuracy, chance=0.0, seeds=())
    for fit_map in (fit_linear_map, fit_logistic_map, fit_flp_map):
        with pytest.raises(ScalingDataError, match="one loss per run"):
            fit_map(losses, accuracy, chance=0.0)


@pytest.mark.parametrize(
    ("loss", "accuracy", "chance", "match"),
    [
        (LOSS, np.r_[TRUE_ACCURACY[:-1], 1.2], CHANCE, "outside \\[0, 1\\] at run 'r29'"),
        (np.r_[np.nan, LOSS[1:]], TRUE_ACCURACY, CHANCE, "non-positive loss at run 'r0'"),
        (LOSS[:-1], TRUE_ACCURACY, CHANCE, "Mismatched inputs"),
        (LOSS, TRUE_ACCURACY, 1.0, "Chance level"),
        (LOSS[:3], TRUE_ACCURACY[:3], CHANCE, "Too few runs: 3 given"),
    ],
)
def test_bad_inputs_are_refused(loss, accuracy, chance, match):
    labels = [f"r{i}" for i in range(len(loss))]
    with pytest.raises(ScalingDataError, match=match):
        validate_map_inputs(loss, accuracy, chance=chance, n_parameters=3, labels=labels)


def test_logistic_map_reports_the_best_start_and_its_residuals():
    accuracy = noisy(TRUE_ACCURACY, 0.005, seed=3)
    fit = fit_logistic_map(LOSS, accuracy, chance=CHANCE)
    assert fit.lmfit_result.var_names == ["ceiling", "k", "L0"]
    assert fit.predict(LOSS) - accuracy == pytest.approx(fit.lmfit_result.residual)
    assert fit.rmse_points == pytest.approx(100 * np.sqrt(np.mean(fit.lmfit_result.residual**2)))
    assert "ceiling" in lmfit.fit_report(fit.lmfit_result)
