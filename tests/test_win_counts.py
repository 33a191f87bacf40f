"""Tests of the fair win counts: wins beyond the noise floor, ties, uncontested cases, refusals.

Synthetic summaries are built here, in the shape of
scalelib.evaluation.method_comparison.summarise_methods, one row per (method, case).
"""

import numpy as np
import pandas as pd
import pytest

from scalelib.data.normalise import ScalingDataError
from scalelib.evaluation.win_counts import judge_benchmarks, win_counts

METHODS = ["direct", "logistic", "FLP"]


def summary_of(cases):
    """``{benchmark: (noise floor, {method: error or None for a refusal})}`` -> a summary frame."""
    rows = []
    for benchmark, (noise, errors) in cases.items():
        for method, error in errors.items():
            rows.append({
                "method": method, "mixture": "dclm", "benchmark": benchmark, "split": "C <= 1e+21",
                "mean_abs_error": np.nan if error is None else error, "noise_floor": noise,
                "status": "skipped" if error is None else "ok",
            })
    return pd.DataFrame(rows)


CASES = {
    "hellaswag": (0.5, {"direct": 1.0, "logistic": 2.0, "FLP": 3.0}),   # a clear win
    "sciq": (0.7, {"direct": 0.46, "logistic": 0.46, "FLP": 2.0}),      # an exact tie, direct listed first
    "piqa": (1.0, {"direct": 1.0, "logistic": 1.5, "FLP": 1.9}),        # three within one noise floor
    "arc_challenge": (1.3, {"direct": 27.8, "logistic": None, "FLP": None}),  # only one method tries
    "mmlu": (0.4, {"direct": None, "logistic": None, "FLP": None}),      # nobody forecasts it
    "winogrande": (1.0, {"direct": 5.0, "logistic": 1.0, "FLP": None}),  # a win with a refusal beside it
}


@pytest.fixture
def verdicts():
    return judge_benchmarks(summary_of(CASES))


def test_each_case_gets_its_verdict(verdicts):
    outcome = verdicts["outcome"].droplevel(["mixture", "split"])
    assert outcome.to_dict() == {
        "hellaswag": "win", "sciq": "tie", "piqa": "tie", "arc_challenge": "uncontested",
        "mmlu": "no forecast", "winogrande": "win",
    }
    by_benchmark = verdicts.droplevel(["mixture", "split"])
    assert by_benchmark.loc["hellaswag", "winner"] == "direct"
    assert by_benchmark.loc["winogrande", "winner"] == "logistic"
    assert by_benchmark.loc["sciq", "winner"] == ""  # the tie goes to nobody, not to the first column
    assert by_benchmark.loc["sciq", "best"] == "direct, logistic"
    assert by_benchmark.loc["piqa", "best"] == "direct, logistic, FLP"
    assert by_benchmark.loc["winogrande", "refused"] == "FLP"
    assert by_benchmark.loc["hellaswag", "gap"] == pytest.approx(1.0)
    assert np.isnan(by_benchmark.loc["arc_challenge", "runner_up_error"])


def test_a_gap_just_inside_or_outside_the_noise_floor():
    inside = judge_benchmarks(summary_of({"piqa": (1.0, {"direct": 1.0, "logistic": 1.999})}))
    outside = judge_benchmarks(summary_of({"piqa": (1.0, {"direct": 1.0, "logistic": 2.001})}))
    assert inside["outcome"].iloc[0] == "tie"
    assert outside["outcome"].iloc[0] == "win"
    wider = judge_benchmarks(summary_of({"piqa": (1.0, {"direct": 1.0, "logistic": 2.5})}), margin=2.0)
    assert wider["outcome"].iloc[0] == "tie"
    strict = judge_benchmarks(summary_of(CASES), margin=0.0).droplevel(["mixture", "split"])
    assert strict.loc["piqa", "outcome"] == "win"  # any smaller error wins without a floor
    assert strict.loc["sciq", "outcome"] == "tie"  # an exact tie is a tie even so


def test_counts_charge_refusals_and_add_up(verdicts):
    counts = win_counts(verdicts, METHODS).droplevel(["mixture", "split"])
    assert counts.loc["direct"].to_dict() == {"wins": 1, "ties": 2, "losses": 1, "uncontested": 1, "refused": 1}
    assert counts.loc["logistic"].to_dict() == {"wins": 1, "ties": 2, "losses": 1, "uncontested": 0, "refused": 2}
    assert counts.loc["FLP"].to_dict() == {"wins": 0, "ties": 1, "losses": 2, "uncontested": 0, "refused": 3}
    assert (counts.sum(axis=1) == len(CASES)).all()


def test_counts_over_all_cases_and_for_a_method_that_forecast_nothing(verdicts):
    summary = summary_of(CASES)
    summary = pd.concat([summary, summary[summary["method"] == "FLP"].assign(
        method="task loss", status="skipped", mean_abs_error=np.nan)])
    counts = win_counts(judge_benchmarks(summary), [*METHODS, "task loss"], by=())
    assert counts.loc["task loss"].to_dict() == {
        "wins": 0, "ties": 0, "losses": 0, "uncontested": 0, "refused": len(CASES)}
    with pytest.raises(ScalingDataError, match="not backtested"):
        win_counts(verdicts, [*METHODS, "FLP-M"])


@pytest.mark.parametrize("corrupt, message", [
    (lambda s: s.drop(columns="noise_floor"), "n_items"),
    (lambda s: pd.concat([s, s.head(1)]), "repeats"),
    (lambda s: s.assign(status="maybe"), "Unknown status"),
    (lambda s: s.assign(mean_abs_error=np.where(s["status"] == "ok", np.nan, 0.0)), "finite"),
    (lambda s: s.assign(noise_floor=-1.0), "noise floor"),
])
def test_bad_summaries_are_refused(corrupt, message):
    with pytest.raises(ScalingDataError, match=message):
        judge_benchmarks(corrupt(summary_of(CASES)))


def test_bad_options_are_refused(verdicts):
    with pytest.raises(ScalingDataError, match="margin"):
        judge_benchmarks(summary_of(CASES), margin=-1.0)
    with pytest.raises(ScalingDataError, match="Cannot group"):
        win_counts(verdicts, METHODS, by=("task_type",))
    with pytest.raises(ScalingDataError, match="No method"):
        win_counts(verdicts, [])
