"""The runs, splits and methods that the three parts of chapter 3 share.

Chapter 3 compares the direct law with two-stage forecasts on identical backtests. Its
parts are separate notebooks, and each must start from the same rows, cuts and
methods: this module holds them, so that no part copies another's setup.

* :func:`two_stage_points`: one row per (run, benchmark) at tpr 20 with the score, the
  three validation losses and the own-mixture loss
  (:func:`scalelib.evaluation.two_stage.merge_losses`) and the task loss
  (:func:`scalelib.evaluation.task_loss.merge_task_loss`), all of them, and split into the rows
  every method is fitted to (above chance) and the others (at or below chance, which
  the direct law cannot take, but which are scored when held out);
* :data:`COMPUTE_CUTS`: two compute cuts per mixture;
* :func:`chapter_methods`: the direct law, the four validation-loss routes and the
  task-loss route, by label;
* :func:`split_names` and :func:`glue_key`: names for numbers glued into the prose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from scalelib.data import released as data
from scalelib.interfaces import Forecaster
from scalelib.data.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.book.compute_cuts import BOOK_CUTS
from scalelib.laws.direct_law import direct_law_forecaster
from scalelib.data.normalise import drop_at_or_below_chance
from scalelib.evaluation.task_loss import merge_task_loss, task_loss_forecaster
from scalelib.evaluation.two_stage import merge_losses, two_stage_forecasters

__all__ = [
    "COMPUTE_CUTS",
    "TPR",
    "chapter_methods",
    "glue_key",
    "split_names",
    "two_stage_points",
]

TPR = 20
"""The tokens-per-parameter ratio of chapter 3 (compute-optimal for the loss)."""

COMPUTE_CUTS = BOOK_CUTS
"""Two cuts a decade apart per mixture: runs with C <= cut are fitted, the others held
out; the book's cuts, :data:`scalelib.book.compute_cuts.BOOK_CUTS`."""


def two_stage_points(data_dir: Path | str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The chapter's rows: headline benchmarks at tpr 20, with every loss attached.

    Parameters
    ----------
    data_dir
        Folder of the release (default: the book's ``data/``).

    Returns
    -------
    scores, kept, dropped : pandas.DataFrame
        ``scores``: :func:`scalelib.data.released.accuracy_frame` rows (default metrics, broken
        code evaluations left out) with the columns ``loss_c4, loss_dclm, loss_fineweb,
        own_loss`` and ``task_loss`` (NaN where the release has none); the backtests run
        on them. Split by :func:`scalelib.data.normalise.drop_at_or_below_chance`: ``kept``
        are the rows above chance, which every method is fitted to
        (:func:`scalelib.evaluation.backtest.above_chance_only`); ``dropped`` the others, scored
        only when held out.
    """
    runs = data.load_runs(data_dir=data_dir)
    scores = data.accuracy_frame(tpr=TPR, benchmarks=HEADLINE_BENCHMARKS, data_dir=data_dir)
    scores = merge_task_loss(scores, data.load_results(data_dir=data_dir))
    scores = merge_losses(scores, runs)
    return (scores, *drop_at_or_below_chance(scores))


def chapter_methods(*, task_loss: bool = True) -> dict[str, Forecaster]:
    """The methods of the head-to-head backtests, by label, in the chapter's order.

    ``direct`` (:func:`scalelib.laws.direct_law.direct_law_forecaster`), ``linear``,
    ``logistic``, ``FLP``, ``FLP-M`` (:func:`scalelib.evaluation.two_stage.two_stage_forecasters`,
    through the validation losses) and, if ``task_loss``, ``task loss``
    (:func:`scalelib.evaluation.task_loss.task_loss_forecaster`, the paper's baseline).
    """
    methods = {"direct": direct_law_forecaster(), **two_stage_forecasters()}
    if task_loss:
        methods["task loss"] = task_loss_forecaster()
    return methods


def split_names(compute_cuts: Mapping[str, Sequence[float]] = COMPUTE_CUTS) -> dict[tuple[str, str], str]:
    """Short names of the backtest splits for glue keys: ``("dclm", "C <= 1e+21") -> "dclm_cut1"``.

    The split labels are those of :func:`scalelib.evaluation.backtest.backtest`; cuts are numbered
    from 1 in the order given.
    """
    return {
        (mixture, f"C <= {cut:.0e}"): f"{mixture}_cut{number}"
        for mixture, cuts in compute_cuts.items()
        for number, cut in enumerate(cuts, start=1)
    }


def glue_key(label: str) -> str:
    """A method's or benchmark's label as part of a glue key: ``"FLP-M" -> "FLP_M"``."""
    return label.replace(" ", "_").replace("-", "_")
