"""The shared rows of chapter 2's two parts: what they hold, on the released data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import benchmark_rows, scattered_accuracy

from scalelib.book import direct_data
from scalelib.evaluation.intervals import direct_law_interval, law_interval_forecaster


def test_tpr20_scores_split_at_chance_and_keep_every_row():
    scores, usable, dropped = direct_data.tpr20_scores()
    assert len(usable) + len(dropped) == len(scores)
    assert (usable["value"] > usable["chance"]).all() and (dropped["value"] <= dropped["chance"]).all()
    assert set(scores["mixture"]) == set(direct_data.BOOK_CUTS) and set(scores["tpr"]) == {20}


def test_direct_backtests_score_every_held_out_run_including_at_chance():
    scores, _, dropped = direct_data.tpr20_scores()
    c4 = scores[(scores["mixture"] == "c4") & scores["benchmark"].isin(["lbpp", "mmlu"])]
    points, intervals, _ = direct_data.direct_backtests(c4, law_interval_forecaster("direct"), cuts={"c4": [1e20]})
    at_chance = dropped[(dropped["mixture"] == "c4") & dropped["benchmark"].isin(["lbpp", "mmlu"])
                        & (dropped["flops"] > 1e20)]
    assert len(at_chance) > 0  # the released data hold held-out runs at chance here
    assert set(at_chance["run"] + at_chance["benchmark"]) <= set(points["run"] + points["benchmark"])
    assert len(points) == len(intervals) == (c4["flops"] > 1e20).sum()
    scored = points.merge(at_chance[["run", "benchmark"]], on=["run", "benchmark"]).set_index("benchmark")
    assert (scored.loc["mmlu", "status"] == "ok").all() and scored.loc["mmlu", "error_points"].notna().all()
    # LBPP has no training run above chance on C4 below 1e20: skipped, with the reason in words
    assert scored.loc["lbpp", "reason"].str.contains("training runs are at or below chance").all()


def test_direct_backtests_summarise_every_case_with_its_interval():
    scores, _, _ = direct_data.tpr20_scores()
    scores = scores[scores["benchmark"].isin(["hellaswag", "piqa"])]
    points, intervals, summary = direct_data.direct_backtests(scores, law_interval_forecaster("direct"))
    assert len(summary) == 2 * sum(len(cuts) for cuts in direct_data.BOOK_CUTS.values())
    assert summary[direct_data.CASE_KEYS].duplicated().sum() == 0
    assert summary["coverage"].between(0, 1).all() and (summary["mean_width_points"] > 0).all()
    held_out = points[points["status"] == "ok"]
    assert np.allclose(
        held_out.groupby(["mixture", "split", "benchmark"])["error_points"].apply(lambda e: e.abs().mean()).sort_index(),
        summary.set_index(["mixture", "split", "benchmark"])["mean_abs_error"].sort_index(),
    )


def test_chance_sensitivity_moves_only_multiple_choice_floors():
    flops = np.geomspace(1e18, 1e22, 12)
    neg_log_q = 3.0 * (flops / 1e18) ** -0.2  # synthetic exact direct law: the smallest runs 3.7 points above chance
    scores = pd.concat([
        benchmark_rows(flops, scattered_accuracy(neg_log_q, chance), benchmark=benchmark, chance=chance, mixture="m")
        for benchmark, chance in [("choice", 0.25), ("generative", 0.0)]
    ], ignore_index=True)
    result = direct_data.chance_sensitivity(scores, compute_cut=1e21).set_index(["benchmark", "shift"])
    assert len(result) == 2 * len(direct_data.CHANCE_SHIFTS)
    # at the true chance the exact law is recovered and forecast without error
    assert result.loc[("choice", 0.0), "alpha"] == pytest.approx(0.2)
    assert result.loc[("choice", 0.0), "mean_abs_error"] == pytest.approx(0.0, abs=1e-9)
    # a wrong floor bends the transformed points: the exponent and the forecast move
    assert result.loc[("choice", 0.01), "alpha"] != pytest.approx(0.2, abs=1e-3)
    assert result.loc[("choice", 0.01), "mean_abs_error"] > 0.01
    # chance 0 is exact for a generative benchmark: every shift gives the same fit
    generative = result.loc["generative"]
    assert generative["alpha"].tolist() == pytest.approx([0.2] * 3)
    assert (generative["mean_abs_error"] < 1e-9).all()


def test_cross_mixture_calibration_chooses_on_one_mixture_and_reports_the_other():
    coverage = pd.DataFrame({
        "mixture": ["a", "b"] * 3,
        "degrees_of_freedom": [1.0, 1.0, 2.0, 2.0, float("inf"), float("inf")],
        "coverage": [0.97, 0.95, 0.91, 0.86, 0.85, 0.80],
        "mean_width_points": [9.0, 19.0, 7.0, 15.0, 5.0, 12.0],
    })
    result = direct_data.cross_mixture_calibration(coverage).set_index(["chosen_on", "tested_on"])
    assert result.loc[("a", "a"), "degrees_of_freedom"] == 2.0  # 0.91 is closest to 0.90 on a
    assert result.loc[("a", "b"), "coverage"] == 0.86  # ... and gives b 0.86
    assert result.loc[("b", "b"), "degrees_of_freedom"] == 2.0  # 0.86 beats 0.95 and 0.80
    assert len(result) == 4


def test_drift_quantile_with_fewer_degrees_of_freedom_widens_only_beyond_the_runs():
    compute = np.geomspace(1e19, 1e21, 10)
    accuracy = 0.25 + 0.75 * np.exp(-3.0 * (compute / 1e18) ** -0.2) * np.exp(0.01 * np.sin(np.arange(10)))
    widths = {
        nu: direct_law_interval(
            compute, accuracy, chance=0.25, at_compute=[1e20, 1e23], drift_rate=0.05,
            drift_degrees_of_freedom=nu,
        )
        for nu in (1.0, 2.0, float("inf"))
    }
    widths = {nu: interval.upper - interval.lower for nu, interval in widths.items()}
    assert widths[1.0][0] == pytest.approx(widths[float("inf")][0])  # inside the runs: no drift term
    assert widths[1.0][1] > widths[2.0][1] > widths[float("inf")][1]
