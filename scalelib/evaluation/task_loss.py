"""The paper's two-stage baseline: compute -> the benchmark's own task loss -> accuracy.

The two-stage route that :mod:`scalelib.evaluation.two_stage` builds goes through a *validation*
loss, one per run. The baseline Krajewski et al. (2025) argue against, after
Bhagia et al. (2024, the OLMo model ladder), goes through the *task loss*: the
negative log-likelihood the model gives the correct answer of each item of the
benchmark, averaged over the items, one value per (run, benchmark). The release holds it
as the metric ``neg_loglikelihood_norm`` (:data:`TASK_LOSS_METRIC`, the length-normalised
log-likelihood of the correct continuation, in nats), for the five multiple-choice
benchmarks ARC-Easy, ARC-Challenge, HellaSwag, PIQA and SciQ, for most DCLM runs and
for no C4 run.

.. math::

    \\hat L_{\\mathrm{task}}(C) = E + A\\,C^{-\\alpha}
    \\quad\\text{(stage 1, } \\texttt{scalelib.loss\\_law}\\text{, per benchmark)}, \\qquad
    \\widehat{\\mathrm{acc}}(C) = f + \\frac{c - f}{1 + \\exp\\big(k\\,(\\hat L_{\\mathrm{task}}(C) - L_0)\\big)}
    \\quad\\text{(stage 2)}.

Both stages are the validation-loss route's own pieces: stage 1 is
:func:`scalelib.laws.loss_law.fit_loss_law` fitted to the task loss, stage 2 defaults to
:func:`scalelib.laws.loss_to_accuracy.fit_logistic_map`, and the two are composed by
:func:`scalelib.evaluation.two_stage.two_stage_forecaster` with ``loss_columns=("task_loss",)``. So
the route runs through :func:`scalelib.evaluation.backtest.backtest` on the same splits as every
other method, and its parameters carry the same standard errors.

Where the book departs from Bhagia et al.: they fit stage 1 as
:math:`L(N, D) = E + A N^{-\\alpha} + B D^{-\\beta}` over a ladder of models at several
data multipliers; at the single ratio of 20 tokens per parameter used here, :math:`N`
and :math:`D` are both fixed by :math:`C`, and the law in compute is what can be
identified. Their stage-2 sigmoid has a free floor; here the floor is the benchmark's
chance level, like the validation-loss logistic map. Their task loss is normalised by
the answer's length in characters (bits per byte in later work); the release does not
say which normalisation ``neg_loglikelihood_norm`` uses.

:func:`merge_task_loss` attaches the task loss to an accuracy frame (NaN where the
release has none), :func:`task_loss_forecaster` is the backtest forecaster (it refuses a
benchmark without a task loss, with a reason), and :func:`task_loss_law_table` fits
stage 1 per benchmark with standard errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelib.interfaces import Forecaster, Predictor
from scalelib.laws.loss_law import fit_loss_law
from scalelib.laws.loss_to_accuracy import fit_logistic_map
from scalelib.evaluation.two_stage import MapFit, two_stage_forecaster
from scalelib.data.validation import ScalingDataError, check_numeric_columns

__all__ = [
    "TASK_LOSS_COLUMN",
    "TASK_LOSS_METRIC",
    "merge_task_loss",
    "task_loss_forecaster",
    "task_loss_law_table",
]

TASK_LOSS_METRIC = "neg_loglikelihood_norm"
"""The released metric holding the task loss (nats, per unit of answer length)."""

TASK_LOSS_COLUMN = "task_loss"
"""The column :func:`merge_task_loss` adds."""


def merge_task_loss(frame: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Attach each (run, benchmark)'s task loss to an accuracy frame.

    Parameters
    ----------
    frame
        One row per (run, benchmark), e.g. :func:`scalelib.data.released.accuracy_frame`
        (columns ``run`` and ``benchmark``).
    results
        :func:`scalelib.data.released.load_results` (columns ``run, benchmark, metric, value``).

    Returns
    -------
    pandas.DataFrame
        ``frame`` (same rows, order and index) with a column ``task_loss``
        (:data:`TASK_LOSS_COLUMN`): the ``neg_loglikelihood_norm`` of that run on that
        benchmark, NaN where the release has none (every benchmark but five, every C4
        run, the largest DCLM runs at ratios other than 20).

    Raises
    ------
    ScalingDataError
        If ``results`` holds no task loss at all, holds two for one (run, benchmark),
        or holds one that is not a positive finite number; or if ``frame`` repeats a
        (run, benchmark) pair or already has a ``task_loss`` column.
    """
    for name, table, needed in (("frame", frame, ("run", "benchmark")),
                                ("results", results, ("run", "benchmark", "metric", "value"))):
        missing = [column for column in needed if column not in table.columns]
        if missing:
            raise ScalingDataError(f"The {name} lacks columns {missing}.")
    if TASK_LOSS_COLUMN in frame.columns:
        raise ScalingDataError(f"The frame already has a {TASK_LOSS_COLUMN!r} column.")
    if frame.duplicated(["run", "benchmark"]).any():
        pairs = frame.loc[frame.duplicated(["run", "benchmark"]), ["run", "benchmark"]].head(3)
        raise ScalingDataError(
            f"The frame repeats (run, benchmark) pairs, e.g. {list(pairs.itertuples(index=False, name=None))}: "
            "keep one metric per benchmark."
        )
    losses = results.loc[results["metric"] == TASK_LOSS_METRIC, ["run", "benchmark", "value"]]
    if losses.empty:
        raise ScalingDataError(f"The results hold no {TASK_LOSS_METRIC!r} values.")
    check_numeric_columns(losses, ["value"])
    repeated = losses.duplicated(["run", "benchmark"])
    if repeated.any():
        pairs = losses.loc[repeated, ["run", "benchmark"]].head(3)
        raise ScalingDataError(
            f"Two {TASK_LOSS_METRIC} values for (run, benchmark) "
            f"{list(pairs.itertuples(index=False, name=None))}."
        )
    bad = ~np.isfinite(losses["value"].to_numpy(dtype=float)) | (losses["value"].to_numpy(dtype=float) <= 0)
    if bad.any():
        pairs = losses.loc[bad, ["run", "benchmark"]].head(3)
        raise ScalingDataError(
            f"Task loss not a positive finite number for {list(pairs.itertuples(index=False, name=None))}."
        )
    lookup = losses.set_index(["run", "benchmark"])["value"].astype(float)
    merged = frame.copy()
    keys = pd.MultiIndex.from_frame(frame[["run", "benchmark"]])
    merged[TASK_LOSS_COLUMN] = lookup.reindex(keys).to_numpy()
    return merged


def _require_task_loss(rows: pd.DataFrame, role: str) -> None:
    """Refuse rows without a task loss, naming the benchmark and the runs."""
    if TASK_LOSS_COLUMN not in rows.columns:
        raise ScalingDataError(
            f"The rows have no {TASK_LOSS_COLUMN!r} column: attach it with merge_task_loss first."
        )
    missing = rows[TASK_LOSS_COLUMN].isna().to_numpy()
    if missing.any():
        benchmark = rows["benchmark"].iloc[0] if "benchmark" in rows.columns else "this benchmark"
        runs = rows.loc[missing, "run"].tolist()
        shown = ", ".join(map(str, runs[:3])) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
        raise ScalingDataError(
            f"No task loss ({TASK_LOSS_METRIC}) released for {benchmark} at {len(runs)} {role} run(s) "
            f"({shown}): the task-loss route cannot forecast it."
        )


def task_loss_forecaster(
    fit_map: MapFit = fit_logistic_map,
    *,
    irreducible: bool = True,
    oracle_loss: bool = False,
    **map_options: object,
) -> Forecaster:
    """A backtest forecaster for the route compute -> task loss -> accuracy (Bhagia et al. 2024).

    Parameters
    ----------
    fit_map
        Stage 2, a map from the task loss to accuracy (default: the chance-floored
        logistic map, :func:`~scalelib.laws.loss_to_accuracy.fit_logistic_map`).
    irreducible
        Stage 1 form: ``L = E + A C^-alpha`` (True) or ``L = A C^-alpha``.
    oracle_loss
        If True, held-out rows are predicted from their observed task losses (stage 2
        alone), as for :func:`scalelib.evaluation.two_stage.decompose_two_stage_error`.
    **map_options
        Passed to ``fit_map``.

    Returns
    -------
    Forecaster
        Needs rows with columns ``run, mixture, flops, value, chance`` and
        ``task_loss`` (:func:`merge_task_loss`). Fits stage 1 to the training rows'
        compute and task losses, stage 2 to their task losses and accuracies, and
        predicts held-out rows from their compute alone. Refuses
        (:class:`~scalelib.data.normalise.ScalingDataError`, so a backtest records the
        benchmark as skipped with the reason) training rows without a task loss, and,
        with ``oracle_loss``, held-out rows without one.
    """
    composed = two_stage_forecaster(
        fit_map, loss_columns=(TASK_LOSS_COLUMN,), irreducible=irreducible, oracle_loss=oracle_loss,
        **map_options,
    )

    def fit(training_rows: pd.DataFrame) -> Predictor:
        _require_task_loss(training_rows, "training")
        predict = composed(training_rows)
        if not oracle_loss:
            return predict

        def predict_from_observed_loss(rows: pd.DataFrame) -> np.ndarray:
            _require_task_loss(rows, "held-out")
            return predict(rows)

        return predict_from_observed_loss

    return fit


def task_loss_law_table(frame: pd.DataFrame, *, irreducible: bool = True) -> pd.DataFrame:
    """Stage 1 of the task-loss route per benchmark: ``L_task = E + A C^-alpha``, with standard errors.

    Parameters
    ----------
    frame
        Rows of :func:`merge_task_loss` (columns ``mixture, benchmark, run, flops,
        task_loss``), e.g. the training runs below a cut.
    irreducible
        Passed to :func:`scalelib.laws.loss_law.fit_loss_law`.

    Returns
    -------
    pandas.DataFrame
        One row per (mixture, benchmark) with a task loss: ``E, E_stderr, alpha,
        alpha_stderr`` (NaN standard error for a parameter at its bound, e.g. E = 0),
        ``n_points`` and ``rmse`` (nats). Benchmarks without any task loss are left out;
        one with a task loss for only some of its runs is refused with the reason.
    """
    rows = []
    for (mixture, benchmark), group in frame.groupby(["mixture", "benchmark"], sort=False):
        if group[TASK_LOSS_COLUMN].isna().all():
            continue
        _require_task_loss(group, "fitted")
        law = fit_loss_law(
            group["flops"].to_numpy(dtype=float), group[TASK_LOSS_COLUMN].to_numpy(dtype=float),
            irreducible=irreducible, labels=group["run"].tolist(),
        )
        rows.append({
            "mixture": mixture, "benchmark": benchmark, "E": law.E, "E_stderr": law.E_stderr,
            "alpha": law.alpha, "alpha_stderr": law.alpha_stderr, "n_points": law.n_points, "rmse": law.rmse,
        })
    if not rows:
        raise ScalingDataError("No benchmark of the frame has a task loss.")
    return pd.DataFrame(rows).set_index(["mixture", "benchmark"])
