"""Tests of the task-loss route (compute -> the benchmark's own task loss -> accuracy).

Synthetic data built here (fixed seeds): task losses follow E + A C^-alpha per
benchmark, accuracies a chance-floored logistic map of the task loss.
"""

import numpy as np
import pandas as pd
import pytest
from synthetic import logistic_accuracy, loss_curve, noisy

from scalelib.evaluation.backtest import backtest
from scalelib.laws.loss_law import fit_loss_law
from scalelib.laws.loss_to_accuracy import fit_linear_map, fit_logistic_map
from scalelib.evaluation.method_comparison import backtest_methods, summarise_methods
from scalelib.data.normalise import ScalingDataError
from scalelib.evaluation.task_loss import (
    TASK_LOSS_COLUMN,
    TASK_LOSS_METRIC,
    merge_task_loss,
    task_loss_forecaster,
    task_loss_law_table,
)
from scalelib.evaluation.two_stage import two_stage_forecaster

COMPUTE = np.logspace(18, 22.5, 24)
CUT = 1e21
RUNS = [f"dclm-run{i}" for i in range(len(COMPUTE))]
LAWS = {"hellaswag": (0.25, 0.4, 60.0, 0.09, 18.0, 0.55), "piqa": (0.5, 0.55, 30.0, 0.08, 5.0, 0.7)}
"""benchmark: (chance, E, A, alpha, k, L0) of the synthetic task loss and map."""


def synthetic_results(noise=0.0, seed=0):
    """A results table in load_results' shape: accuracy and task loss per (run, benchmark)."""
    rng = np.random.default_rng(seed)
    frames = []
    for benchmark, (chance, E, A, alpha, k, L0) in LAWS.items():
        loss = loss_curve(COMPUTE, E, A, alpha)
        accuracy = logistic_accuracy(loss, chance, 1.0, k, L0)
        for metric, value in ((TASK_LOSS_METRIC, loss), ("acc_norm", accuracy)):
            frames.append(pd.DataFrame({
                "mixture": "dclm", "run": RUNS, "flops": COMPUTE, "benchmark": benchmark,
                "metric": metric, "value": noisy(value, noise, rng) if noise else value,
            }))
    return pd.concat(frames, ignore_index=True)


def accuracy_rows(results):
    """The accuracy frame a backtest takes (one row per run and benchmark)."""
    rows = results[results["metric"] == "acc_norm"].drop(columns="metric").reset_index(drop=True)
    return rows.assign(chance=rows["benchmark"].map(lambda name: LAWS[name][0]), n_items=1000)


def test_merge_attaches_the_task_loss_by_run_and_benchmark():
    results = synthetic_results()
    frame = accuracy_rows(results).iloc[::-1]  # order and index are kept
    merged = merge_task_loss(frame, results)
    assert merged.index.equals(frame.index)
    hellaswag = merged[merged["benchmark"] == "hellaswag"].sort_values("flops")
    _, E, A, alpha, *_ = LAWS["hellaswag"]
    assert hellaswag[TASK_LOSS_COLUMN].to_numpy() == pytest.approx(E + A * COMPUTE**-alpha)


def test_merge_leaves_nan_where_no_task_loss_was_released():
    results = synthetic_results()
    without_piqa = results[~((results["benchmark"] == "piqa") & (results["metric"] == TASK_LOSS_METRIC))]
    merged = merge_task_loss(accuracy_rows(results), without_piqa)
    assert merged.loc[merged["benchmark"] == "piqa", TASK_LOSS_COLUMN].isna().all()
    assert merged.loc[merged["benchmark"] == "hellaswag", TASK_LOSS_COLUMN].notna().all()


@pytest.mark.parametrize("corrupt, message", [
    (lambda r: r[r["metric"] != TASK_LOSS_METRIC], "no 'neg_loglikelihood_norm'"),
    (lambda r: pd.concat([r, r[r["metric"] == TASK_LOSS_METRIC].head(1)]), "Two neg_loglikelihood_norm"),
    (lambda r: r.assign(value=np.where(r["metric"] == TASK_LOSS_METRIC, -1.0, r["value"])), "positive finite"),
    (lambda r: r.drop(columns="metric"), "lacks columns"),
])
def test_merge_refuses_bad_results(corrupt, message):
    results = synthetic_results()
    with pytest.raises(ScalingDataError, match=message):
        merge_task_loss(accuracy_rows(results), corrupt(results))


def test_merge_refuses_repeated_rows_and_a_second_merge():
    results = synthetic_results()
    rows = accuracy_rows(results)
    with pytest.raises(ScalingDataError, match="repeats"):
        merge_task_loss(pd.concat([rows, rows.head(1)]), results)
    with pytest.raises(ScalingDataError, match="already has"):
        merge_task_loss(merge_task_loss(rows, results), results)


def test_forecaster_is_the_logistic_map_of_the_forecast_task_loss():
    results = synthetic_results(noise=0.002, seed=3)
    rows = merge_task_loss(accuracy_rows(results), results)
    rows = rows[rows["benchmark"] == "hellaswag"]
    training, held_out = rows[rows["flops"] <= CUT], rows[rows["flops"] > CUT]
    predict = task_loss_forecaster()(training.copy())
    law = fit_loss_law(training["flops"], training[TASK_LOSS_COLUMN])
    accuracy_map = fit_logistic_map(training[TASK_LOSS_COLUMN], training["value"], chance=0.25)
    expected = accuracy_map.predict(law.predict(held_out["flops"]))
    assert predict(held_out[["flops"]]) == pytest.approx(expected, rel=1e-12)
    # the same composition as the validation-loss route, with the task loss as its loss
    same = two_stage_forecaster(fit_logistic_map, loss_columns=(TASK_LOSS_COLUMN,))(training.copy())
    assert same(held_out) == pytest.approx(expected, rel=1e-12)
    oracle = task_loss_forecaster(oracle_loss=True)(training.copy())
    assert oracle(held_out) == pytest.approx(accuracy_map.predict(held_out[TASK_LOSS_COLUMN]), rel=1e-12)


def test_noiseless_task_losses_are_forecast_almost_exactly():
    results = synthetic_results()
    rows = merge_task_loss(accuracy_rows(results), results)
    result = backtest(rows, task_loss_forecaster(), compute_cut=CUT)
    assert (result["status"] == "ok").all()
    assert result["error_points"].abs().max() < 0.05


def test_a_benchmark_without_task_loss_is_refused_and_the_others_forecast():
    results = synthetic_results()
    without_piqa = results[~((results["benchmark"] == "piqa") & (results["metric"] == TASK_LOSS_METRIC))]
    rows = merge_task_loss(accuracy_rows(results), without_piqa)
    summary = summarise_methods(backtest_methods(
        rows, {"task loss": task_loss_forecaster(), "linear": task_loss_forecaster(fit_linear_map)},
        {"dclm": (CUT,)},
    ))
    status = summary.set_index(["method", "benchmark"])["status"]
    assert status[("task loss", "hellaswag")] == "ok" and status[("linear", "hellaswag")] == "ok"
    assert status[("task loss", "piqa")] == "skipped"
    reason = summary.set_index(["method", "benchmark"]).loc[("task loss", "piqa"), "reason"]
    assert "No task loss (neg_loglikelihood_norm) released for piqa" in reason


def test_forecaster_refuses_rows_without_the_column_and_oracle_rows_without_a_loss():
    results = synthetic_results()
    rows = merge_task_loss(accuracy_rows(results), results)
    rows = rows[rows["benchmark"] == "hellaswag"]
    training, held_out = rows[rows["flops"] <= CUT], rows[rows["flops"] > CUT]
    with pytest.raises(ScalingDataError, match="merge_task_loss"):
        task_loss_forecaster()(training.drop(columns=TASK_LOSS_COLUMN))
    oracle = task_loss_forecaster(oracle_loss=True)(training.copy())
    with pytest.raises(ScalingDataError, match="held-out"):
        oracle(held_out.assign(**{TASK_LOSS_COLUMN: np.nan}))
    with pytest.raises(ValueError, match="not both"):
        two_stage_forecaster(fit_logistic_map, validation_sets=("dclm",), loss_columns=(TASK_LOSS_COLUMN,))


def test_law_table_recovers_the_exponents_with_standard_errors():
    results = synthetic_results(noise=0.001, seed=5)
    rows = merge_task_loss(accuracy_rows(results), results)
    table = task_loss_law_table(rows)
    assert list(table.index.get_level_values("benchmark")) == ["hellaswag", "piqa"]
    for benchmark, (_, E, _, alpha, *_) in LAWS.items():
        fit = table.loc[("dclm", benchmark)]
        assert fit["alpha"] == pytest.approx(alpha, abs=4 * fit["alpha_stderr"] + 1e-3)
        assert fit["E"] == pytest.approx(E, abs=4 * fit["E_stderr"] + 1e-3)
        assert fit["n_points"] == len(COMPUTE)
    partial = rows.copy()
    partial.loc[partial.index[0], TASK_LOSS_COLUMN] = np.nan
    with pytest.raises(ScalingDataError, match="No task loss"):
        task_loss_law_table(partial)
