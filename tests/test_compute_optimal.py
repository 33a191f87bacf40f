"""Tests of the compute-optimal allocation under Eq. 4, on fits to synthetic data."""

import dataclasses

import numpy as np
import pytest
from synthetic import ratio_rows

from scalelib.laws.compute_optimal import (
    allocation_at_ratio,
    bootstrap_optimal_ratio,
    compute_optimal_table,
    compute_to_match_optimum,
    numerical_optimum,
    optimal_log_ratio_gradient,
    optimal_log_ratio_stderr,
    optimal_params,
    optimal_ratio,
    optimal_tokens,
    overtraining_price,
    ratio_growth_exponent,
    runs_along_ratios,
)
from scalelib.data.normalise import ScalingDataError
from scalelib.laws.ratio_law import fit_ratio_law

CHANCE = 0.25
BUDGETS = (1e19, 1e21, 1e23, 1e25)


def synthetic_fit(alpha: float, beta: float, noise: float = 0.0, seed: int = 0):
    """Eq. 4 fitted to synthetic runs at five ratios (amplitudes 0.4 and 0.3 at the reference point)."""
    runs = ratio_rows(np.logspace(18, 22, 8), lambda N, D: 0.4 * (N / 2.9e9) ** -alpha + 0.3 * (D / 5.8e10) ** -beta,
                      noise=noise, seed=seed, chance=CHANCE)
    fit = fit_ratio_law(runs["params"], runs["tokens"], runs["value"], chance=CHANCE, labels=runs["run"].tolist())
    return fit, runs


@pytest.fixture(scope="module", params=[(0.5, 0.3), (0.3, 0.5)], ids=["alpha>beta", "alpha<beta"])
def fit(request):
    return synthetic_fit(*request.param, noise=0.003, seed=1)[0]


@pytest.mark.parametrize("compute", BUDGETS)
def test_closed_form_matches_numerical_optimisation(fit, compute):
    params, tokens = numerical_optimum(fit, compute)
    assert optimal_params(fit, compute) == pytest.approx(params, rel=1e-6)
    assert optimal_tokens(fit, compute) == pytest.approx(tokens, rel=1e-6)


@pytest.mark.parametrize("compute", BUDGETS)
def test_optimum_spends_the_budget_and_balances_the_marginal_terms(fit, compute):
    params, tokens = optimal_params(fit, compute), optimal_tokens(fit, compute)
    assert 6 * params * tokens == pytest.approx(compute, rel=1e-12)
    assert optimal_ratio(fit, compute) == pytest.approx(tokens / params)
    # Lagrange condition: alpha A N^-alpha = beta B D^-beta.
    assert fit.alpha * fit.A * params**-fit.alpha == pytest.approx(fit.beta * fit.B * tokens**-fit.beta, rel=1e-9)


def test_optimal_ratio_moves_with_compute_by_the_growth_exponent(fit):
    growth = optimal_ratio(fit, 1e23) / optimal_ratio(fit, 1e21)
    assert growth == pytest.approx(100.0 ** ratio_growth_exponent(fit), rel=1e-9)
    assert np.sign(ratio_growth_exponent(fit)) == np.sign(fit.alpha - fit.beta)


def test_log_ratio_gradient_matches_finite_differences(fit):
    compute, step = 3e22, 1e-6
    gradient = optimal_log_ratio_gradient(fit, compute)
    for i in range(4):
        shift = np.zeros(4)
        shift[i] = step
        up = dataclasses.replace(fit, reference_parameters=fit.reference_parameters + shift)
        down = dataclasses.replace(fit, reference_parameters=fit.reference_parameters - shift)
        finite = (np.log(optimal_ratio(up, compute)) - np.log(optimal_ratio(down, compute))) / (2 * step)
        assert gradient[i] == pytest.approx(finite, rel=1e-6, abs=1e-9)


def test_stderr_is_the_delta_method_and_the_table_uses_it(fit):
    compute = 1e22
    gradient = optimal_log_ratio_gradient(fit, compute)
    stderr = optimal_log_ratio_stderr(fit, compute)
    assert stderr == pytest.approx(np.sqrt(gradient @ fit.reference_covariance @ gradient))
    assert 0 < stderr < 1
    row = compute_optimal_table({("synthetic", "b"): fit}, compute).loc[("synthetic", "b")]
    assert row["tpr"] == pytest.approx(optimal_ratio(fit, compute))
    assert np.log(row["tpr_high"] / row["tpr"]) == pytest.approx(1.959964 * stderr, rel=1e-6)
    assert row["accuracy"] == pytest.approx(fit.predict(row["params"], row["tokens"])[0])


def test_true_optimal_ratio_within_the_delta_method_interval():
    fit, _ = synthetic_fit(0.5, 0.3, noise=0.003, seed=2)
    truth, _ = synthetic_fit(0.5, 0.3)
    row = compute_optimal_table({("s", "b"): fit}, 1e22).iloc[0]
    assert row["tpr_low"] < optimal_ratio(truth, 1e22) < row["tpr_high"]


def test_compute_to_match_optimum(fit):
    compute = 1e22
    at_optimum = compute_to_match_optimum(fit, compute, float(optimal_ratio(fit, compute)))
    assert at_optimum == pytest.approx(compute, rel=1e-8)
    for tpr in (3.0, 300.0):
        matched = compute_to_match_optimum(fit, compute, tpr)
        assert matched > compute
        assert fit.neg_log_q(*allocation_at_ratio(matched, tpr)) == pytest.approx(
            fit.neg_log_q(optimal_params(fit, compute), optimal_tokens(fit, compute)), rel=1e-8
        )


def test_allocation_at_ratio():
    params, tokens = allocation_at_ratio(np.array([1.2e21]), 20.0)
    assert tokens / params == pytest.approx([20.0])
    assert 6 * params * tokens == pytest.approx([1.2e21])


def test_runs_along_ratios_spend_each_budget_at_each_ratio():
    compute = np.array([1e20, 1e22])
    rows = runs_along_ratios(compute, [10, 160])
    assert rows["tpr"].tolist() == [10.0, 10.0, 160.0, 160.0]
    assert rows["flops"].to_numpy() == pytest.approx(np.tile(compute, 2))
    assert (rows["tokens"] / rows["params"]).to_numpy() == pytest.approx(rows["tpr"].to_numpy())
    assert (6 * rows["params"] * rows["tokens"]).to_numpy() == pytest.approx(rows["flops"].to_numpy())


def test_zero_exponent_has_no_optimum(fit):
    flat = dataclasses.replace(fit, reference_parameters=fit.reference_parameters * np.array([1, 0, 1, 1]))
    with pytest.raises(ScalingDataError, match="exponents alpha = 0 and beta = .* must both be positive"):
        optimal_params(flat, 1e22)


def test_bootstrap_is_seeded_and_centred_on_the_fit():
    fit, runs = synthetic_fit(0.5, 0.3, noise=0.003, seed=3)
    first = bootstrap_optimal_ratio(runs, 1e22, n_resamples=4, seed=5)
    assert first == pytest.approx(bootstrap_optimal_ratio(runs, 1e22, n_resamples=4, seed=5))
    assert not np.array_equal(first[:1], bootstrap_optimal_ratio(runs, 1e22, n_resamples=1, seed=6))
    assert abs(np.log(np.median(first) / optimal_ratio(fit, 1e22))) < 3 * optimal_log_ratio_stderr(fit, 1e22)


def test_overtraining_price_matches_the_optimum_and_prices_smaller_models():
    fit = synthetic_fit(0.5, 0.3)[0]
    budget = 1e22
    best_ratio = float(np.ravel(optimal_ratio(fit, budget))[0])
    price = overtraining_price(fit, budget, [best_ratio, 4 * best_ratio, best_ratio / 4])
    at_optimum, larger_ratio, smaller_ratio = price.itertuples()
    assert at_optimum.compute_multiple == pytest.approx(1.0, abs=1e-6)
    assert at_optimum.size_multiple == pytest.approx(1.0, abs=1e-3)
    # off the optimum, matching its accuracy costs more compute
    assert larger_ratio.compute_multiple > 1 and smaller_ratio.compute_multiple > 1
    # a larger ratio gives a smaller model, whose break-even follows the closed form
    assert larger_ratio.size_multiple < 1
    expected = 3 * (larger_ratio.compute_multiple - 1) / (1 - larger_ratio.size_multiple)
    assert larger_ratio.break_even_tokens == pytest.approx(expected)
    # a smaller ratio gives a larger model: no break-even
    assert smaller_ratio.size_multiple > 1 and np.isnan(smaller_ratio.break_even_tokens)
    with pytest.raises(ScalingDataError):
        overtraining_price(fit, -1.0, [20])
    with pytest.raises(ScalingDataError):
        overtraining_price(fit, budget, [0.0])
