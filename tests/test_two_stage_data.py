"""Tests of the shared setup of chapter 3 (scalelib.two_stage_data) on the released files."""

import numpy as np
import pytest

from scalelib.task_loss import TASK_LOSS_COLUMN
from scalelib.two_stage_data import COMPUTE_CUTS, chapter_methods, glue_key, split_names, two_stage_points


@pytest.fixture(scope="module")
def points():
    return two_stage_points()


def test_rows_are_split_at_chance_and_carry_every_loss(points):
    kept, dropped = points
    assert (len(kept), len(dropped)) == (1186, 172)  # the counts chapter 3 prints
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
