"""The shared rows of chapter 2's two parts: what they hold, on the released data."""

from __future__ import annotations

import numpy as np

from scalelib import direct_data
from scalelib.intervals import law_interval_fitter


def test_tpr20_scores_split_at_chance_and_keep_every_row():
    scores, usable, dropped = direct_data.tpr20_scores()
    assert len(usable) + len(dropped) == len(scores)
    assert (usable["value"] > usable["chance"]).all() and (dropped["value"] <= dropped["chance"]).all()
    assert set(scores["mixture"]) == set(direct_data.BOOK_CUTS) and set(scores["tpr"]) == {20}


def test_direct_backtests_summarise_every_case_with_its_interval():
    _, usable, _ = direct_data.tpr20_scores()
    usable = usable[usable["benchmark"].isin(["hellaswag", "piqa"])]
    points, intervals, summary = direct_data.direct_backtests(usable, law_interval_fitter("direct"))
    assert len(summary) == 2 * sum(len(cuts) for cuts in direct_data.BOOK_CUTS.values())
    assert summary[direct_data.CASE_KEYS].duplicated().sum() == 0
    assert summary["coverage"].between(0, 1).all() and (summary["mean_width_points"] > 0).all()
    held_out = points[points["status"] == "ok"]
    assert np.allclose(
        held_out.groupby(["mixture", "split", "benchmark"])["error_points"].apply(lambda e: e.abs().mean()).sort_index(),
        summary.set_index(["mixture", "split", "benchmark"])["mean_abs_error"].sort_index(),
    )
