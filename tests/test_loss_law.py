"""Tests of stage 1, the loss law L = E + A C^-alpha, on synthetic losses from known parameters."""

import numpy as np
import pandas as pd
import pytest
from synthetic import loss_curve

from scalelib.laws.loss_law import fit_loss_law, fit_loss_laws, loss_column, loss_law_table, own_validation_set
from scalelib.data.normalise import ScalingDataError

COMPUTE = np.logspace(18, 23, 16)
TRUE_E, TRUE_A, TRUE_ALPHA = 1.7, 400.0, 0.13


TRUE_LOSS = loss_curve(COMPUTE, TRUE_E, TRUE_A, TRUE_ALPHA)
"""Synthetic losses (nats) from the true law at COMPUTE (tests add noise with ``loss_curve(..., noise=)``)."""


def test_irreducible_law_recovers_parameters_from_noiseless_losses():
    fit = fit_loss_law(COMPUTE, TRUE_LOSS)
    assert fit.irreducible
    assert fit.E == pytest.approx(TRUE_E, rel=1e-6)
    assert fit.A == pytest.approx(TRUE_A, rel=1e-5)
    assert fit.alpha == pytest.approx(TRUE_ALPHA, rel=1e-6)
    assert fit.rmse < 1e-8
    assert fit.n_points == len(COMPUTE)


def test_pure_power_law_recovers_parameters_and_fixes_E_at_zero():
    fit = fit_loss_law(COMPUTE, loss_curve(COMPUTE, 0.0, 30.0, 0.05), irreducible=False)
    assert fit.E == 0.0 and fit.E_stderr == 0.0
    assert fit.A == pytest.approx(30.0, rel=1e-6)
    assert fit.alpha == pytest.approx(0.05, rel=1e-6)
    assert fit.covariance.shape == (2, 2)


def test_noisy_recovery_is_within_the_reported_standard_errors():
    fit = fit_loss_law(COMPUTE, loss_curve(COMPUTE, TRUE_E, TRUE_A, TRUE_ALPHA, noise=0.005, seed=1))
    assert fit.covariance.shape == (3, 3)
    for value, stderr, truth in [(fit.E, fit.E_stderr, TRUE_E), (fit.alpha, fit.alpha_stderr, TRUE_ALPHA)]:
        assert 0 < stderr < 0.5 * truth
        assert abs(value - truth) < 4 * stderr
    assert abs(np.log(fit.A) - np.log(TRUE_A)) < 4 * np.sqrt(fit.covariance[0, 0])
    assert fit.A_stderr == pytest.approx(fit.A * np.sqrt(fit.covariance[0, 0]))
    assert 0.002 < fit.rmse < 0.008  # noise of 0.005 nats (rmse of the residuals, n - 3 dof)


def test_pure_power_law_misses_curved_data_that_the_irreducible_law_fits():
    losses = TRUE_LOSS
    assert fit_loss_law(COMPUTE, losses, irreducible=False).rmse > 1e3 * fit_loss_law(COMPUTE, losses).rmse


def test_irreducible_loss_at_its_bound_has_no_standard_error():
    """Synthetic pure power-law losses: E runs into its bound at 0, where lmfit's error is meaningless."""
    fit = fit_loss_law(COMPUTE, loss_curve(COMPUTE, 0.0, 30.0, 0.05))
    assert fit.E == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(fit.E_stderr)
    assert np.isfinite(fit.alpha_stderr) and np.isfinite(fit.A_stderr)
    assert fit.alpha == pytest.approx(0.05, rel=1e-4)


def test_predict_is_E_plus_A_C_to_minus_alpha():
    fit = fit_loss_law(COMPUTE, TRUE_LOSS)
    new_compute = np.array([1e24, 1e25])
    assert fit.predict(new_compute) == pytest.approx(TRUE_E + TRUE_A * new_compute**-TRUE_ALPHA, rel=1e-6)


@pytest.mark.parametrize(
    ("compute", "loss", "match"),
    [
        (COMPUTE[:3], TRUE_LOSS[:3], "Too few runs: 3 given"),
        (COMPUTE, np.r_[TRUE_LOSS[:-1], np.nan], "NaN or infinite loss at run 'r15'"),
        (np.r_[-1.0, COMPUTE[1:]], TRUE_LOSS, "compute at run 'r0'"),
        (COMPUTE, TRUE_LOSS[:-1], "Mismatched lengths"),
    ],
)
def test_bad_inputs_are_refused_naming_the_runs(compute, loss, match):
    with pytest.raises(ScalingDataError, match=match):
        fit_loss_law(compute, loss, labels=[f"r{i}" for i in range(len(compute))])


def test_own_validation_set_and_loss_column():
    assert own_validation_set("dclm") == "dclm"
    assert loss_column(own_validation_set("c4")) == "loss_c4"
    with pytest.raises(ValueError, match="no validation set of its own"):
        own_validation_set("pile")
    with pytest.raises(ValueError, match="unknown validation set"):
        loss_column("wiki")


def test_fit_loss_laws_fits_each_mixture_on_its_own_loss_at_the_chosen_ratio():
    """Synthetic runs table: each mixture's own loss follows its own law, the other loss is noise."""
    noise = np.random.default_rng(2).uniform(2.0, 4.0, len(COMPUTE))
    dclm = pd.DataFrame({"mixture": "dclm", "flops": COMPUTE, "tpr": 20.0,
                         "loss_dclm": loss_curve(COMPUTE, 1.6, TRUE_A, TRUE_ALPHA), "loss_c4": noise})
    c4 = pd.DataFrame({"mixture": "c4", "flops": COMPUTE, "tpr": 20.0,
                       "loss_c4": loss_curve(COMPUTE, 1.9, TRUE_A, TRUE_ALPHA), "loss_dclm": noise})
    other_ratio = dclm.assign(tpr=80.0, loss_dclm=noise)
    runs = pd.concat([dclm, c4, other_ratio], ignore_index=True)
    runs["run"] = [f"run{i}" for i in range(len(runs))]
    fits = fit_loss_laws(runs)
    assert fits["dclm"].E == pytest.approx(1.6, rel=1e-5)
    assert fits["c4"].E == pytest.approx(1.9, rel=1e-5)
    table = loss_law_table(fits)
    assert list(table.index) == ["dclm", "c4"]
    assert table.loc["c4", "n_points"] == len(COMPUTE)
    on_c4_loss = fit_loss_laws(runs, validation_set="c4")
    assert on_c4_loss["dclm"].rmse > 0.1  # the noise column, not a law


def test_fit_reports_the_best_start_and_its_residuals():
    losses = loss_curve(COMPUTE, TRUE_E, TRUE_A, TRUE_ALPHA, noise=0.005, seed=1)
    fit = fit_loss_law(COMPUTE, losses)
    assert fit.lmfit_result.var_names == ["log_A_ref", "alpha", "E"]
    assert fit.predict(COMPUTE) - losses == pytest.approx(fit.lmfit_result.residual)
    assert fit_loss_law(COMPUTE, losses, irreducible=False).lmfit_result.var_names == ["log_A_ref", "alpha"]
