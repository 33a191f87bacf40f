"""Tests of scalelib.laws.pass_at_k: the estimator, the data hygiene, Eq. 5 and the trade-off helpers.

Eq. 5 is tested on synthetic data generated here from known parameters (labelled
synthetic, fixed seeds); the loader on a small constructed release written to a
temporary folder.
"""

from __future__ import annotations

import hashlib
import itertools
from fractions import Fraction
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from synthetic import pass_at_k_rows  # noqa: E402

from scalelib.data import released as data  # noqa: E402
from scalelib.evaluation.backtest import backtest, backtest_split  # noqa: E402
from scalelib.evaluation.intervals import (  # noqa: E402
    PredictionInterval,
    bootstrap_interval_forecaster,
    summarise_intervals,
)
from scalelib.data.normalise import ScalingDataError  # noqa: E402
from scalelib.laws.pass_at_k import (  # noqa: E402
    break_even_problems,
    coverage_by_run,
    coverage_table,
    estimator_bound_violations,
    fit_pass_at_k_by_benchmark,
    fit_pass_at_k_law,
    inference_flops,
    iso_pass_at_k,
    load_pass_at_k,
    mean_pass_at_k,
    params_at_compute,
    pass_at_k,
    pass_at_k_forecaster,
)
from scalelib.plots.forecasts import plot_compute_extrapolation, plot_k_extrapolation  # noqa: E402

# ----------------------------------------------------------------------------- estimator


def brute_force_pass_at_k(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of n samples (the first c correct) holding a correct sample."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(sample < c for sample in subset) for subset in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 8))
def test_estimator_equals_enumeration_of_subsets(n):
    for c, k in itertools.product(range(n + 1), range(1, n + 1)):
        assert pass_at_k(n, c, k) == pytest.approx(brute_force_pass_at_k(n, c, k), rel=1e-12, abs=1e-15)


def test_estimator_is_exact_for_many_samples():
    """Against exact rational arithmetic, where a log-gamma formula loses ~1e-8 relative."""
    for n, c, k in [(5000, 1, 1), (5000, 2, 2), (2000, 3, 50), (1000, 400, 7), (300, 299, 1)]:
        exact = 1 - Fraction(comb(n - c, k), comb(n, k))
        assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-13)


def test_edge_cases():
    assert pass_at_k(200, 0, 100) == 0.0
    assert not np.signbit(pass_at_k(200, 0, 100))  # +0.0, so tables print 0, not -0
    assert pass_at_k(200, 200, 1) == 1.0
    assert pass_at_k(200, 200, 200) == 1.0
    assert pass_at_k(200, 101, 100) == 1.0  # n - c < k: every subset holds a correct sample
    np.testing.assert_allclose(pass_at_k(200, np.arange(0, 201, 25), 1), np.arange(0, 201, 25) / 200, rtol=1e-14)


def test_estimator_broadcasts_and_averages():
    values = pass_at_k([10, 20], [[1], [5]], [[2, 4]])
    assert values.shape == (2, 2)
    assert values[1, 0] == pytest.approx(brute_force_pass_at_k(10, 5, 2))
    assert mean_pass_at_k(10, [0, 1, 10], 3) == pytest.approx((0 + 0.3 + 1) / 3)


def test_k_above_n_is_located():
    with pytest.raises(ValueError, match=r"index \(1,\): n_samples=3, n_correct=1, k=4"):
        pass_at_k([10, 3], 1, 4)


def _pass_at_k_rows(run: str, values: list[float]) -> pd.DataFrame:
    ks = [1, 2, 4, 8, 16, 32, 64, 128][: len(values)]
    return pd.DataFrame({"mixture": "dclm", "run": run, "benchmark": "mbpp",
                         "metric": [f"pass@{k}" for k in ks], "value": values})


def test_bound_violations_find_impossible_curves_only():
    frame = pd.concat([
        _pass_at_k_rows("valid", [0.1, 0.18, 0.3, 0.4]),
        _pass_at_k_rows("broken", [0.02, 1.0, 1.0, 1.0]),
        _pass_at_k_rows("decreasing", [0.1, 0.15, 0.12, 0.2]),
    ])
    found = estimator_bound_violations(frame)
    assert found[["run", "k", "k_next", "violation"]].values.tolist() == [
        ["broken", 1, 2, "pass@2k > 2 pass@k"],
        ["decreasing", 2, 4, "decreasing in k"],
    ]


def test_union_bound_holds_for_the_estimator():
    """The bound used to audit released values holds for any samples (synthetic counts, seed 3)."""
    rng = np.random.default_rng(3)
    n = 64
    correct = rng.integers(0, n + 1, size=200)
    for k in [1, 2, 4, 8, 16, 32]:
        assert np.all(pass_at_k(n, correct, 2 * k) <= 2 * pass_at_k(n, correct, k) + 1e-12)
        assert np.all(pass_at_k(n, correct, 2 * k) >= pass_at_k(n, correct, k))


# ----------------------------------------------------------------------------- loader


K_VALUES = [1, 2, 4, 8, 16, 32, 64, 128]


def _write_release(folder: Path) -> Path:
    """A constructed two-file release: three DCLM runs (valid, broken, all zero) and one C4 run."""
    valid = [0.05, 0.08, 0.12, 0.17, 0.22, 0.28, 0.33, 0.38]
    broken = [0.01] + [1.0] * 7
    dclm_lines, c4_lines = [",tokens,benchmark,metric_type,score,tpr"], [",flops,params,tokens,benchmark,metric_type,score,tpr"]
    row = 0
    for tokens, scores in [(2e10, valid), (4e10, broken), (1e10, [0.0] * 8)]:
        for k, score in zip(K_VALUES, scores):
            dclm_lines.append(f"{row},{tokens:.0f},humaneval-py,pass@{k},{score},20.0")
            row += 1
    for k in K_VALUES:
        c4_lines.append(f"{k},{6 * 5e8 * 1e10:.0f},{5e8:.0f},{1e10:.0f},humaneval-py,pass@{k},0.0,20.0")
    (folder / data.MIXTURES["dclm"]).write_text("\n".join(dclm_lines) + "\n")
    (folder / data.MIXTURES["c4"]).write_text("\n".join(c4_lines) + "\n")
    manifest = [f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}" for name in data.MIXTURES.values()]
    (folder / data.MANIFEST).write_text("\n".join(manifest) + "\n")
    return folder


def test_loader_excludes_broken_evaluations_and_zeros_with_a_reason(tmp_path):
    kept, excluded = load_pass_at_k(data_dir=_write_release(tmp_path))
    assert set(kept["run"]) == {"dclm-tpr20-D20000000000"}
    assert kept["k"].tolist() == K_VALUES
    assert {"k", "flops", "value", "chance", "n_items", "run"} <= set(kept.columns)
    reasons = excluded.groupby(["run", "reason"]).size().to_dict()
    assert reasons == {
        ("c4-tpr20-D10000000000", "exact zero"): 8,
        ("dclm-tpr20-D10000000000", "exact zero"): 8,
        ("dclm-tpr20-D40000000000", "broken evaluation"): 8,
    }
    coverage = coverage_table(kept, excluded)
    assert coverage.loc[("dclm", 20.0, "humaneval-py")].to_dict() == {
        "runs": 3, "broken_evaluations": 1, "runs_above_zero": 1, "best_pass@1": 0.05, "best_pass@128": 0.38,
    }
    assert coverage.loc[("c4", 20.0, "humaneval-py"), "runs_above_zero"] == 0


def test_loader_flag_agrees_with_the_estimator_bounds(tmp_path):
    release = _write_release(tmp_path)
    violations = estimator_bound_violations(data.load_results(data_dir=release))
    _, excluded = load_pass_at_k(data_dir=release)
    assert set(violations["run"]) == set(excluded.loc[excluded["reason"] == "broken evaluation", "run"])


def test_loader_refuses_non_code_benchmarks_and_unknown_ratios(tmp_path):
    release = _write_release(tmp_path)
    with pytest.raises(ValueError, match="release no pass@k"):
        load_pass_at_k(benchmarks=["arc_easy"], data_dir=release)
    with pytest.raises(ValueError, match="no pass@k at tpr=40"):
        load_pass_at_k(tpr=40, data_dir=release)


# ----------------------------------------------------------------------------- Eq. 5

TRUE = {"log_A": 10.0, "alpha": -0.2, "beta": 0.6, "delta": -0.015}
COMPUTE = np.logspace(18, 22.5, 15)


def synthetic_frame(run_noise: float = 0.0, point_noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Synthetic pass@k on a (COMPUTE x K_VALUES) grid from Eq. 5 with TRUE, noise in log(-log Q)."""
    rows = pass_at_k_rows(COMPUTE, K_VALUES, TRUE, run_noise=run_noise, point_noise=point_noise, seed=seed)
    return rows.assign(mixture="synthetic", tpr=20.0, n_items=164)


@pytest.mark.parametrize("n_items", [None, 164])
def test_noiseless_recovery(n_items):
    frame = synthetic_frame()
    fit = fit_pass_at_k_law(frame["flops"], frame["k"], frame["value"], n_items=n_items)
    for name, value in TRUE.items():
        assert getattr(fit, name) == pytest.approx(value, rel=1e-8, abs=1e-10)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.rmse_points < 1e-8
    assert fit.weighted is (n_items is not None)
    np.testing.assert_allclose(fit.predict(frame["flops"], frame["k"]), frame["value"], rtol=1e-9)
    assert fit.compute_range == (COMPUTE[0], COMPUTE[-1])
    assert fit.k_range == (1.0, 128.0)


def test_parameters_and_covariance_equal_the_uncentred_regression():
    frame = synthetic_frame(point_noise=0.05, seed=1)
    fit = fit_pass_at_k_law(frame["flops"], frame["k"], frame["value"])
    log_c, log_k = np.log(frame["flops"]), np.log(frame["k"])
    design = np.column_stack([np.ones(len(frame)), log_c, log_k, log_c * log_k])
    target = np.log(-np.log(frame["value"]))
    coefficients, residual_sum, *_ = np.linalg.lstsq(design, target, rcond=None)
    expected = residual_sum[0] / (len(frame) - 4) * np.linalg.inv(design.T @ design)
    np.testing.assert_allclose([fit.log_A, fit.alpha, fit.beta, fit.delta], coefficients, rtol=1e-7)
    np.testing.assert_allclose(fit.covariance, expected, rtol=1e-5)


def test_noisy_recovery_within_clustered_standard_errors():
    frame = synthetic_frame(run_noise=0.05, point_noise=0.01, seed=2)
    classical = fit_pass_at_k_law(frame["flops"], frame["k"], frame["value"])
    clustered = fit_pass_at_k_law(frame["flops"], frame["k"], frame["value"], clusters=frame["run"])
    assert clustered.covariance_type == "clustered" and clustered.n_clusters == len(COMPUTE)
    for name, value in TRUE.items():
        assert abs(getattr(clustered, name) - value) < 4 * getattr(clustered, f"{name}_stderr")
    # noise shared by the k of a run: the classical errors are too small for the compute
    # slope (constant within a run) and too large for the k slope (the shared part cancels)
    assert clustered.alpha_stderr > 1.2 * classical.alpha_stderr
    assert clustered.beta_stderr < 0.5 * classical.beta_stderr


def test_compute_needed_inverts_the_law():
    fit = fit_pass_at_k_law(*synthetic_frame()[["flops", "k", "value"]].T.to_numpy())
    k = np.array([1, 4, 32, 128])
    needed = fit.compute_needed(0.3, k)
    np.testing.assert_allclose(fit.predict(needed, k), 0.3, rtol=1e-10)
    assert np.all(np.diff(needed) < 0)  # more samples, less training compute
    assert np.isnan(fit.compute_needed(1.2, 1))
    slopes = fit.compute_exponent(k)
    np.testing.assert_allclose(slopes, TRUE["alpha"] + TRUE["delta"] * np.log(k), rtol=1e-8)
    np.testing.assert_allclose(fit.k_exponent(1e21), TRUE["beta"] + TRUE["delta"] * np.log(1e21), rtol=1e-8)


def test_exponent_errors_follow_the_covariance():
    frame = synthetic_frame(point_noise=0.05, seed=4)
    fit = fit_pass_at_k_law(frame["flops"], frame["k"], frame["value"])
    assert fit.compute_exponent_stderr(1) == pytest.approx(fit.alpha_stderr)
    assert fit.k_exponent_stderr(1) == pytest.approx(fit.beta_stderr)
    # at C_ref the k exponent is the centred regression's own coefficient: its error is
    # far smaller than beta's, which is extrapolated to C = 1 FLOP
    assert fit.k_exponent_stderr(1e21) < 0.1 * fit.beta_stderr
    gradient = np.array([0, 0, 1, np.log(1e21)])
    assert fit.k_exponent_stderr(1e21) == pytest.approx(np.sqrt(gradient @ fit.covariance @ gradient))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.assign(value=f["value"].where(f.index != 3, 0.0)), "at or below chance"),
        (lambda f: f[f["k"] == 8], "two distinct compute values and two distinct k"),
        (lambda f: f.assign(k=f["k"].where(f.index != 5, 0.5)), "k must be a finite number >= 1"),
    ],
)
def test_bad_inputs_are_refused(edit, message):
    frame = edit(synthetic_frame())
    with pytest.raises(ScalingDataError, match=message):
        fit_pass_at_k_law(frame["flops"], frame["k"], frame["value"])


def test_fit_by_benchmark_refuses_mixed_ratios_and_reports_refused_groups():
    frame = synthetic_frame()
    fits, refused = fit_pass_at_k_by_benchmark(
        pd.concat([frame, frame.head(3).assign(benchmark="lbpp")])
    )
    assert list(fits) == [("synthetic", "humaneval-py")]
    assert refused["benchmark"].tolist() == ["lbpp"]
    with pytest.raises(ValueError, match="one tokens-per-parameter ratio"):
        fit_pass_at_k_by_benchmark(pd.concat([frame, frame.assign(tpr=40.0)]))


def test_forecaster_backtests_in_compute_and_in_k():
    frame = synthetic_frame()
    in_compute = backtest(frame, pass_at_k_forecaster(), compute_cut=1e21)
    in_k = backtest_split(frame, pass_at_k_forecaster(weight_by_n_items=True),
                          held_out=frame["k"] > 16, split="k <= 16", sort_column="k")
    assert len(in_compute) == (COMPUTE > 1e21).sum() * len(K_VALUES)
    assert sorted(in_k["k"].unique()) == [32, 64, 128]
    for result in (in_compute, in_k):
        assert (result["status"] == "ok").all()
        assert result["error_points"].abs().max() < 1e-6


# ----------------------------------------------------------------------------- intervals


def test_run_bootstrap_intervals_of_eq5_cover_held_out_k():
    """The book's run bootstrap composes with the Eq. 5 forecaster (synthetic, seed 5, noise shared by a run)."""
    frame = synthetic_frame(run_noise=0.05, point_noise=0.01, seed=5)
    fit = bootstrap_interval_forecaster(pass_at_k_forecaster(), n_resamples=100, progress=False)
    result = backtest_split(frame, fit, held_out=frame["k"] > 16, split="k <= 16", sort_column="k")
    assert (result["lower"] <= result["predicted"]).all() and (result["predicted"] <= result["upper"]).all()
    # the held-out values are at the fitted runs' compute: no drift term, the interval is
    # curve + a new run's noise, which the synthetic noise matches
    assert summarise_intervals(result)["coverage"].item() >= 0.8
    runs = coverage_by_run(result)
    assert runs["held_out_runs"].item() == len(COMPUTE)


def test_coverage_by_run_counts_whole_and_partial_misses():
    result = pd.DataFrame({
        "split": "k <= 16", "benchmark": "mbpp", "status": ["ok"] * 9 + ["skipped"],
        "run": ["a"] * 3 + ["b"] * 3 + ["c"] * 3 + ["d"],
        "covered": pd.array([True, True, True, True, False, True, False, False, False, pd.NA], dtype="boolean"),
    })
    table = coverage_by_run(pd.concat([result, result.assign(benchmark="humaneval-py", covered=True)]))
    assert table.index.get_level_values("benchmark").tolist() == ["humaneval-py", "mbpp"]
    assert table.loc[("k <= 16", "mbpp")].to_dict() == {
        "held_out_runs": 3, "covered_at_every_k": 1, "covered_at_some_k": 1, "covered_at_no_k": 1,
        "coverage": pytest.approx(5 / 9),
    }
    assert table.loc[("k <= 16", "humaneval-py"), "covered_at_every_k"] == 3


def _band_predictor(fit):
    """A stand-in interval predictor: the fitted Eq. 5, plus and minus 0.05."""

    def predict(rows, level):
        predicted = fit.predict(rows["flops"].to_numpy(), rows["k"].to_numpy())
        return PredictionInterval(predicted, predicted - 0.05, predicted + 0.05, level, "synthetic", 0.0)

    return predict


def bands(ax):
    return [child for child in ax.get_children() if isinstance(child, PolyCollection)]


def test_extrapolation_figures_shade_one_band_per_curve():
    frame = synthetic_frame()
    fit = fit_pass_at_k_law(frame["flops"], frame["k"], frame["value"])
    predictors = {"humaneval-py": _band_predictor(fit)}
    figure = plot_compute_extrapolation(frame, predictors, compute_cut=1e21, ks=[1, 128], title="synthetic")
    (ax,) = figure.axes
    assert len(bands(ax)) == 2  # one band per k
    curve = next(line for line in ax.get_lines() if line.get_label() == "Eq. 5, k = 128")
    np.testing.assert_allclose(curve.get_ydata(), fit.predict(curve.get_xdata(), 128))
    plt.close(figure)
    figure = plot_k_extrapolation(frame, predictors, k_cut=16, n_runs=2, title="synthetic")
    (ax,) = figure.axes
    assert len(bands(ax)) == 2  # one band per run
    band = bands(ax)[-1]
    assert band.get_paths()[0].vertices[:, 0].min() >= 16  # shaded over the forecast region only
    plt.close(figure)


# ----------------------------------------------------------------------------- trade-off


def test_inference_and_model_size_arithmetic():
    assert params_at_compute(6 * 20 * 1e9**2, tpr=20) == pytest.approx(1e9)
    assert inference_flops(1e9, k=8, tokens_per_sample=250, n_problems=1000) == pytest.approx(2 * 1e9 * 250 * 8 * 1000)


def test_iso_curve_and_break_even_volume():
    fit = fit_pass_at_k_law(*synthetic_frame()[["flops", "k", "value"]].T.to_numpy())
    k = np.array([1.0, 2.0, 4.0])
    iso = iso_pass_at_k(fit, 0.3, k, tpr=20, tokens_per_sample=256, n_problems=1e6)
    np.testing.assert_allclose(iso["total_flops"], iso["training_flops"] + iso["inference_flops"])
    np.testing.assert_allclose(fit.predict(iso["training_flops"], k), 0.3)
    volume = break_even_problems(fit, 0.3, k[:2], tpr=20, tokens_per_sample=256)
    # at the break-even volume, k and 2k cost the same in total
    for k_low, at_volume in zip(k[:2], volume):
        pair = iso_pass_at_k(fit, 0.3, [k_low, 2 * k_low], tpr=20, tokens_per_sample=256, n_problems=at_volume)
        assert pair["total_flops"].iloc[0] == pytest.approx(pair["total_flops"].iloc[1], rel=1e-9)
    assert np.all(np.diff(volume) < 0)  # doubling pays off less at larger k
