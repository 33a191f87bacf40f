"""Tests of the shared setup of chapter 3 (scalelib.book.two_stage_data) on the released files."""

import numpy as np
import pytest

from scalelib.evaluation.task_loss import TASK_LOSS_COLUMN
from scalelib.book.two_stage_data import COMPUTE_CUTS, chapter_methods, glue_key, split_names, two_stage_points


@pytest.fixture(scope="module")
def points():
    return two_stage_points()


def test_rows_are_split_at_chance_and_carry_every_loss(points):
    scores, kept, dropped = points
    assert (len(kept), len(dropped)) == (1186, 172)  # the counts chapter 3 prints
    assert kept.index.union(dropped.index).equals(scores.index) and kept.index.intersection(dropped.index).empty
    assert (kept["value"] > kept["chance"]).all()
    assert (dropped["value"] <= dropped["chance"]).all()
    assert set(kept["tpr"]) == {20.0}
    for column in ("loss_c4", "loss_dclm", "loss_fineweb", "own_loss"):
        assert kept[column].notna().all()
    with_task_loss = kept[kept[TASK_LOSS_COLUMN].notna()]
    assert set(with_task_loss["mixture"]) == {"dclm"}
    assert set(with_task_loss["benchmark"]) == {"arc_easy", "arc_challenge", "hellaswag", "piqa", "sciq"}
    assert np.isfinite(with_task_loss[TASK_LOSS_COLUMN]).all()


def test_methods_and_names():
    assert list(chapter_methods()) == ["direct", "linear", "logistic", "FLP", "FLP-M", "task loss"]
    assert "task loss" not in chapter_methods(task_loss=False)
    names = split_names()
    assert names[("dclm", "C <= 1e+21")] == "dclm_cut1"
    assert names[("c4", "C <= 1e+21")] == "c4_cut2"
    assert len(names) == sum(len(cuts) for cuts in COMPUTE_CUTS.values())
    assert glue_key("FLP-M") == "FLP_M" and glue_key("task loss") == "task_loss"


def test_every_method_scores_held_out_runs_at_chance_with_the_same_training_rows(points):
    from scalelib.evaluation.method_comparison import backtest_methods

    scores, _, dropped = points
    mmlu = scores[(scores["mixture"] == "c4") & (scores["benchmark"] == "mmlu")]
    held_at_chance = dropped[(dropped["mixture"] == "c4") & (dropped["benchmark"] == "mmlu") & (dropped["flops"] > 1e20)]
    assert len(held_at_chance) > 0
    methods = {name: fit for name, fit in chapter_methods(task_loss=False).items() if name in ("direct", "linear")}
    results = backtest_methods(mmlu, methods, {"c4": (1e20,)})
    for method, rows in results.groupby("method"):
        assert len(rows) == (mmlu["flops"] > 1e20).sum(), method  # every held-out run, at chance too
        assert set(held_at_chance["run"]) <= set(rows.loc[rows["status"] == "ok", "run"]), method
    assert results["n_train"].nunique() == 1  # the same training rows for every method
