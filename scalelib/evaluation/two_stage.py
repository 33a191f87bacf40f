"""The two-stage forecast, compute -> loss -> accuracy, as a backtest forecaster.

.. math::

    \\hat L(C) = E + A\\,C^{-\\alpha}
    \\quad\\text{(stage 1, } \\texttt{scalelib.loss\\_law}\\text{)}, \\qquad
    \\widehat{\\mathrm{acc}}(C) = g\\big(\\hat L(C)\\big)
    \\quad\\text{(stage 2, } \\texttt{scalelib.loss\\_to\\_accuracy}\\text{)}.

:func:`two_stage_forecaster` composes the two stages into a
:data:`scalelib.interfaces.Forecaster`: given one benchmark's training rows it fits stage 1
to their (compute, loss) pairs and stage 2 to their (loss, accuracy) pairs, and predicts
held-out rows from their compute alone. It therefore runs through the same
:func:`scalelib.evaluation.backtest.backtest` as the direct law, on identical splits.

With ``oracle_loss=True`` the predictor is given the *true* loss of each held-out run
instead of :math:`\\hat L(C)`: the error left is stage 2's alone.
:func:`decompose_two_stage_error` splits the two-stage error of every held-out run as

.. math::

    \\underbrace{g(\\hat L) - \\mathrm{acc}}_{\\text{total}}
    = \\underbrace{g(\\hat L) - g(L)}_{\\text{stage 1}}
    + \\underbrace{g(L) - \\mathrm{acc}}_{\\text{stage 2 (oracle loss)}}.

The accuracy frame carries no losses: :func:`merge_losses` attaches them, by run.

Prediction intervals of any method come from :mod:`scalelib.evaluation.intervals` (for the two-stage
methods, :func:`scalelib.evaluation.intervals.bootstrap_interval_forecaster` around
:func:`two_stage_forecaster`: a bootstrap over runs refitting both stages), and
:func:`~scalelib.evaluation.backtest.fit_once` makes each of the many two-stage fits of a bootstrap happen
only once, however many intervals, figures and backtests ask for it. Backtesting
several methods on identical splits and comparing them is :mod:`scalelib.evaluation.method_comparison`;
the route through the benchmark's own
task loss instead of a validation loss is :mod:`scalelib.evaluation.task_loss`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from scalelib.interfaces import Forecaster, Predictor, single_chance_level
from scalelib.data.benchmark_info import VALIDATION_SETS
from scalelib.laws.loss_law import LossLawFit, fit_loss_law, loss_column, own_validation_set
from scalelib.laws.loss_to_accuracy import FLP_M_SEEDS, fit_flp_m_map, fit_flp_map, fit_linear_map, fit_logistic_map
from scalelib.evaluation.method_comparison import backtest_methods
from scalelib.data.normalise import ScalingDataError

__all__ = [
    "LOSS_COLUMNS",
    "decompose_two_stage_error",
    "flp_m_seed_spread",
    "loss_backtest",
    "merge_losses",
    "summarise_decomposition",
    "two_stage_forecaster",
    "two_stage_forecasters",
]

LOSS_COLUMNS = tuple(loss_column(name) for name in VALIDATION_SETS)
"""The loss columns of :func:`scalelib.data.released.load_runs`: ``loss_c4, loss_dclm, loss_fineweb``."""

MapFit = Callable[..., object]
"""Stage 2: ``fit_map(loss, accuracy, *, chance, labels, **options)`` with ``.predict(loss)``."""


def merge_losses(frame: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Attach each run's three validation losses, and its own-mixture loss, to an accuracy frame.

    Parameters
    ----------
    frame
        Rows of :func:`scalelib.data.released.accuracy_frame` (column ``run``, ``mixture``).
    runs
        :func:`scalelib.data.released.load_runs`.

    Returns
    -------
    pandas.DataFrame
        ``frame`` (same rows, order and index) with columns ``loss_c4``, ``loss_dclm``,
        ``loss_fineweb`` and ``own_loss``: the loss on the mixture's own validation set
        (:func:`scalelib.laws.loss_law.own_validation_set`).

    Raises
    ------
    ScalingDataError
        If a run of ``frame`` is missing from ``runs`` or has a missing loss.
    """
    losses = runs.set_index("run")[list(LOSS_COLUMNS)]
    missing = sorted(set(frame["run"]) - set(losses.index))
    if missing:
        raise ScalingDataError(f"No losses for run(s) {missing}: they are not in the runs table.")
    merged = frame.join(losses, on="run")
    incomplete = merged[merged[list(LOSS_COLUMNS)].isna().any(axis=1)]["run"].unique()
    if len(incomplete):
        raise ScalingDataError(f"Missing validation loss for run(s) {sorted(incomplete)}.")
    own_columns = merged["mixture"].map(lambda mixture: loss_column(own_validation_set(mixture)))
    merged["own_loss"] = [merged.at[index, column] for index, column in own_columns.items()]
    return merged


def _loss_columns(
    rows: pd.DataFrame, validation_sets: Sequence[str] | None, loss_columns: Sequence[str] | None
) -> list[str]:
    """The loss columns a forecaster uses: given ones, else the validation sets', else the mixture's own."""
    if loss_columns is not None:
        missing = [column for column in loss_columns if column not in rows.columns]
        if missing:
            raise ScalingDataError(f"The rows have no loss column {missing}; attach it before the backtest.")
        return list(loss_columns)
    if validation_sets is None:
        mixtures = rows["mixture"].unique()
        if len(mixtures) != 1:
            raise ScalingDataError(f"Expected the rows of one mixture, got {sorted(mixtures)}.")
        return [loss_column(own_validation_set(mixtures[0]))]
    return [loss_column(name) for name in validation_sets]


def two_stage_forecaster(
    fit_map: MapFit,
    *,
    validation_sets: Sequence[str] | None = None,
    loss_columns: Sequence[str] | None = None,
    irreducible: bool = True,
    oracle_loss: bool = False,
    **map_options: object,
) -> Forecaster:
    """A :func:`scalelib.evaluation.backtest.backtest` forecaster predicting accuracy from compute via loss.

    Parameters
    ----------
    fit_map
        Stage 2, e.g. :func:`~scalelib.laws.loss_to_accuracy.fit_logistic_map`. Receives the
        training losses as a 1-d array if one validation set is used, else as a
        ``(runs, validation sets)`` array (FLP-M).
    validation_sets
        Validation sets whose loss is used, e.g. ``("c4", "dclm", "fineweb")``; None
        (default) uses each mixture's own (``loss_dclm`` for DCLM, ``loss_c4`` for C4).
    loss_columns
        Columns of the rows holding the losses, used instead of ``validation_sets``:
        any per-row loss, e.g. the benchmark's own task loss
        (:func:`scalelib.evaluation.task_loss.task_loss_forecaster`). Give one or the other.
    irreducible
        Stage 1 form: ``L = E + A C^-alpha`` (True) or ``L = A C^-alpha``.
    oracle_loss
        If True, held-out rows are predicted from their observed losses (stage 2 only,
        no stage 1 fit): the oracle of :func:`decompose_two_stage_error`.
    **map_options
        Passed to ``fit_map`` (e.g. ``emergence_margin`` for FLP).

    Returns
    -------
    Forecaster
        Needs rows with columns ``run, mixture, flops, value, chance`` and the loss
        columns (:func:`merge_losses`). Fits stage 1 (one loss law per validation set)
        on the training rows' compute and losses (so both stages see exactly the runs
        the backtest gives this benchmark), and stage 2 on their losses and
        accuracies; the predictor maps held-out compute through both. Stage 1 depends on
        the runs only, not on the benchmark: the forecaster fits each loss law once per set
        of (compute, loss) values and shares it among the benchmarks (and bootstrap
        resamples) fitted on the same runs.
    """
    if validation_sets is not None and loss_columns is not None:
        raise ValueError("Give validation_sets or loss_columns, not both.")
    loss_laws_fitted: dict[tuple[bytes, bytes], LossLawFit] = {}

    def loss_law_of(compute: np.ndarray, loss: np.ndarray, labels: list[str]) -> LossLawFit:
        key = (compute.tobytes(), loss.tobytes())
        if key not in loss_laws_fitted:
            loss_laws_fitted[key] = fit_loss_law(compute, loss, irreducible=irreducible, labels=labels)
        return loss_laws_fitted[key]

    def fit(training_rows: pd.DataFrame) -> Predictor:
        columns = _loss_columns(training_rows, validation_sets, loss_columns)
        labels = training_rows["run"].tolist()
        training_losses = training_rows[columns].to_numpy()
        accuracy_map = fit_map(
            training_losses[:, 0] if len(columns) == 1 else training_losses,
            training_rows["value"].to_numpy(),
            chance=single_chance_level(training_rows), labels=labels, **map_options,
        )
        if oracle_loss:
            loss_laws = None
        else:
            compute = training_rows["flops"].to_numpy(dtype=float)
            loss_laws = [
                loss_law_of(compute, training_rows[column].to_numpy(dtype=float), labels) for column in columns
            ]

        def predict(rows: pd.DataFrame) -> np.ndarray:
            if loss_laws is None:
                losses = rows[columns].to_numpy()
            else:
                compute = rows["flops"].to_numpy()
                losses = np.column_stack([law.predict(compute) for law in loss_laws])
            return accuracy_map.predict(losses[:, 0] if len(columns) == 1 else losses)

        return predict

    return fit


def two_stage_forecasters(*, oracle_loss: bool = False, irreducible: bool = True) -> dict[str, Forecaster]:
    """The chapter's four two-stage methods, by label: linear, logistic, FLP and FLP-M.

    Linear, logistic and FLP use the mixture's own validation loss; FLP-M uses all three
    (C4, DCLM, FineWeb). Default options of each map (FLP's emergence margin, FLP-M's
    network and seed).
    """
    return {
        "linear": two_stage_forecaster(fit_linear_map, irreducible=irreducible, oracle_loss=oracle_loss),
        "logistic": two_stage_forecaster(fit_logistic_map, irreducible=irreducible, oracle_loss=oracle_loss),
        "FLP": two_stage_forecaster(fit_flp_map, irreducible=irreducible, oracle_loss=oracle_loss),
        "FLP-M": two_stage_forecaster(
            fit_flp_m_map, validation_sets=VALIDATION_SETS, irreducible=irreducible, oracle_loss=oracle_loss
        ),
    }


def flp_m_seed_spread(
    frame: pd.DataFrame, compute_cuts: dict[str, Sequence[float]], *, seeds: Sequence[int] = FLP_M_SEEDS
) -> pd.DataFrame:
    """FLP-M's backtest error as an ensemble and seed by seed: how much the answer depends on the seed.

    Backtests FLP-M with the whole ensemble of ``seeds`` and with each seed's network
    alone (:func:`backtest_methods`, identical splits), and averages the absolute errors
    over every held-out run of each (mixture, split).

    Returns
    -------
    pandas.DataFrame
        One row per (mixture, split): ``ensemble`` (mean absolute error of the ensemble's
        forecast, points), ``best seed`` and ``worst seed`` (the lowest and highest of
        the single networks' mean absolute errors), and ``n_held_out``.
    """
    forecasters = {"ensemble": two_stage_forecaster(fit_flp_m_map, validation_sets=VALIDATION_SETS, seeds=seeds)}
    forecasters |= {
        f"seed {seed}": two_stage_forecaster(fit_flp_m_map, validation_sets=VALIDATION_SETS, seeds=(seed,))
        for seed in seeds
    }
    results = backtest_methods(frame, forecasters, compute_cuts)
    fitted = results[results["status"] == "ok"].assign(abs_error=lambda rows: rows["error_points"].abs())
    errors = fitted.pivot_table(index=["mixture", "split"], columns="method", values="abs_error", aggfunc="mean")
    single = errors.drop(columns="ensemble")
    return pd.DataFrame({
        "n_held_out": fitted[fitted["method"] == "ensemble"].groupby(["mixture", "split"]).size(),
        "ensemble": errors["ensemble"],
        "best seed": single.min(axis=1),
        "worst seed": single.max(axis=1),
    }).sort_index(level=["mixture", "split"], ascending=[False, True])


def decompose_two_stage_error(two_stage: pd.DataFrame, oracle: pd.DataFrame) -> pd.DataFrame:
    """Split each held-out run's two-stage error into a stage-1 and a stage-2 part.

    Parameters
    ----------
    two_stage, oracle
        :func:`scalelib.evaluation.backtest.backtest` (or :func:`backtest_methods`) results of the
        same frame and splits with ``two_stage_forecaster(..., oracle_loss=False)`` and
        ``(..., oracle_loss=True)``; rows are matched by method (if present), mixture,
        benchmark, run and split.

    Returns
    -------
    pandas.DataFrame
        One row per held-out row fitted by both: the backtest keys, ``observed``,
        ``error_points`` (total, ``g(L_hat) - acc``), ``stage2_points`` (``g(L) - acc``),
        ``stage1_points`` (``g(L_hat) - g(L)``; total = stage 1 + stage 2), all in
        accuracy points, and ``compounding``: True when the two parts have the same
        sign, so that they add up rather than cancel.
    """
    keys = [c for c in ("method", "mixture", "benchmark", "run", "split") if c in two_stage.columns]
    fitted = two_stage[two_stage["status"] == "ok"]
    merged = fitted[[*keys, "observed", "predicted", "error_points"]].merge(
        oracle.loc[oracle["status"] == "ok", [*keys, "predicted"]].rename(columns={"predicted": "oracle_predicted"}),
        on=keys, how="inner", validate="one_to_one",
    )
    merged["stage2_points"] = 100.0 * (merged["oracle_predicted"] - merged["observed"])
    merged["stage1_points"] = 100.0 * (merged["predicted"] - merged["oracle_predicted"])
    merged["compounding"] = np.sign(merged["stage1_points"]) == np.sign(merged["stage2_points"])
    return merged.drop(columns="oracle_predicted")


def summarise_decomposition(
    decomposition: pd.DataFrame, by: Sequence[str] = ("method", "mixture", "split")
) -> pd.DataFrame:
    """Mean absolute total, stage-1 and stage-2 errors (points) and the share of compounding runs.

    Parameters
    ----------
    decomposition
        :func:`decompose_two_stage_error` output.
    by
        Columns to group by.

    Returns
    -------
    pandas.DataFrame
        ``n_held_out``, ``total``, ``stage1``, ``stage2`` (mean absolute values, accuracy
        points) and ``compounding_share`` (fraction of held-out rows whose two parts
        have the same sign) per group.
    """
    return decomposition.groupby(list(by), sort=False).agg(
        n_held_out=("run", "size"),
        total=("error_points", lambda errors: errors.abs().mean()),
        stage1=("stage1_points", lambda errors: errors.abs().mean()),
        stage2=("stage2_points", lambda errors: errors.abs().mean()),
        compounding_share=("compounding", "mean"),
    )


def loss_backtest(
    runs: pd.DataFrame,
    *,
    compute_cut: float,
    irreducible: bool = True,
    validation_set: str | None = None,
) -> pd.DataFrame:
    """Stage 1 alone: fit the loss law per mixture on runs with C <= cut, predict the others.

    Parameters
    ----------
    runs
        :func:`scalelib.data.released.load_runs` rows (filter the ratio first, e.g. tpr 20).
    compute_cut
        Runs with ``flops <= compute_cut`` are fitted.
    irreducible, validation_set
        As :func:`scalelib.laws.loss_law.fit_loss_laws` (None: each mixture's own loss).

    Returns
    -------
    pandas.DataFrame
        One row per held-out run: ``mixture, run, flops, observed, predicted`` (nats),
        ``error`` (predicted - observed, nats) and ``compute_cut``.
    """
    reports = []
    for mixture, rows in runs.groupby("mixture", sort=True):
        column = loss_column(validation_set or own_validation_set(mixture))
        training, held_out = rows[rows["flops"] <= compute_cut], rows[rows["flops"] > compute_cut]
        if held_out.empty:
            continue
        law = fit_loss_law(
            training["flops"].to_numpy(), training[column].to_numpy(), irreducible=irreducible,
            labels=training["run"].tolist(),
        )
        report = held_out[["mixture", "run", "flops"]].copy()
        report["observed"] = held_out[column].to_numpy()
        report["predicted"] = law.predict(held_out["flops"].to_numpy())
        report["error"] = report["predicted"] - report["observed"]
        report["compute_cut"] = compute_cut
        reports.append(report)
    return pd.concat(reports, ignore_index=True)
