"""The candidate laws of :mod:`scalelib.evaluation.auto_forecast`, each wrapped to fit one benchmark's rows.

A candidate fits the rows it is given (already cleared of near-chance runs) and
returns a predictor of raw accuracy at any rows with the same columns. The per-ratio
laws fit the target-ratio rows only; Eq. 4 fits every ratio at once and is evaluated
at each row's own N and D (so along the target ratio when asked for target-ratio
runs). The equations, with :math:`Q = (\\mathrm{acc} - c) / (1 - c)`:

* ``direct``, Eq. 2: :math:`-\\log Q = A C^{-\\alpha}` (:mod:`scalelib.laws.direct_law`);
* ``saturating``, Eq. 6: :math:`-\\log Q = A C^{-\\alpha} + E` (:mod:`scalelib.laws.saturating_law`);
* ``bnsl``, Eq. 1: :math:`-\\log Q = a + b C^{-c_0} (1 + (C/d_1)^{1/f_1})^{-c_1 f_1}`
  (:mod:`scalelib.laws.bnsl`);
* ``ratio``, Eq. 4: :math:`-\\log Q = A N^{-\\alpha} + B D^{-\\beta}` across ratios
  (:mod:`scalelib.laws.ratio_law`);
* ``two-stage``, where the rows carry each run's validation loss (column
  :data:`LOSS_COLUMN`, the loss on the mixture's own validation set): the loss law
  :math:`L = E + A C^{-\\alpha}`, then the logistic map with its floor at chance,
  :math:`\\mathrm{acc} = c + (u - c) / (1 + e^{k (L - L_0)})`
  (:mod:`scalelib.evaluation.two_stage`, :func:`scalelib.laws.loss_to_accuracy.fit_logistic_map`). The
  held-out runs' losses are never read: their accuracy is forecast from compute
  through both stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalelib.interfaces import Forecaster, Predictor
from scalelib.interfaces import Law
from scalelib.laws.registry import law as registered_law
from scalelib.laws.loss_to_accuracy import fit_logistic_map
from scalelib.laws.ratio_law import MIN_RATIO_SPAN
from scalelib.evaluation.two_stage import two_stage_forecaster
from scalelib.data.validation import ScalingDataError

__all__ = ["CANDIDATES", "DEFAULT_CANDIDATES", "LOSS_COLUMN", "Candidate", "law_candidate"]

LOSS_COLUMN = "own_loss"
"""Column of a run's validation loss used by the two-stage candidate (as
:func:`scalelib.evaluation.two_stage.merge_losses` names the loss on the mixture's own set)."""


@dataclass(frozen=True)
class Candidate:
    """One law the forecaster may use.

    Attributes
    ----------
    name, equation
        Short name and the law's equation, as text.
    min_runs
        Fewest fitted runs: the law's parameters plus one.
    make_forecaster
        Builds the law's :data:`~scalelib.interfaces.Forecaster` (given the compute column).
    across_ratios
        True for Eq. 4, fitted on every ratio's rows; False for laws of one ratio.
    needs_columns
        Columns the rows must have, else the candidate is not used (a validation loss).
    """

    name: str
    equation: str
    min_runs: int
    make_forecaster: Callable[[str], Forecaster]
    across_ratios: bool = False
    needs_columns: tuple[str, ...] = ()

    def fit(self, rows: pd.DataFrame, target: pd.Series, compute_column: str) -> Predictor:
        """Fit on ``rows`` (the target-ratio ones, unless :attr:`across_ratios`); refuses too few runs.

        Raises
        ------
        ScalingDataError
            Too few rows for the law, Eq. 4 without N, D or a second ratio, or the law's own refusal.
        """
        missing = [name for name in self.needs_columns if name not in rows.columns]
        if missing:
            raise ScalingDataError(f"{self.name} needs the column(s) {missing}.")
        if self.across_ratios:
            if not {"params", "tokens"} <= set(rows.columns):
                raise ScalingDataError("Eq. 4 needs each run's params and tokens.")
            ratios = rows["tokens"].to_numpy(float) / rows["params"].to_numpy(float)
            if len(rows) == 0 or ratios.max() < MIN_RATIO_SPAN * ratios.min():
                raise ScalingDataError("Eq. 4 needs training runs at a second tokens-per-parameter ratio.")
            fitted = rows
        else:
            fitted = rows[target.to_numpy(bool)]
        if len(fitted) < self.min_runs or fitted[compute_column].nunique() < 2:
            raise ScalingDataError(f"{self.name}: {len(fitted)} runs, at least {self.min_runs} needed.")
        predict = self.make_forecaster(compute_column)(fitted.copy())
        return lambda scored: np.asarray(predict(scored), dtype=float)


def law_candidate(law: Law) -> Candidate:
    """A registered law as a candidate: its name, equation, minimum runs and forecaster.

    A law whose inputs are N and D (Eq. 4) is fitted across ratios.
    """
    return Candidate(
        law.name, f"{law.equation} ({law.title})", law.min_runs,
        lambda column: law.forecaster(compute_column=column),
        across_ratios={"params", "tokens"} <= set(law.columns),
    )


CANDIDATES: dict[str, Candidate] = {
    candidate.name: candidate
    for candidate in [
        *(law_candidate(registered_law(name)) for name in ("direct", "saturating", "bnsl", "ratio")),
        Candidate("two-stage", "L = E + A C^-alpha, acc = c + (u - c) / (1 + exp(k (L - L0)))", 5,
                  lambda column: two_stage_forecaster(fit_logistic_map, loss_columns=[LOSS_COLUMN]),
                  needs_columns=(LOSS_COLUMN,)),
    ]
}
"""Every candidate by name: four laws of the registry (:data:`scalelib.laws.registry.LAWS`; Eq. 5
needs k and is not a candidate) and the two-stage route, which is not a law of its own."""

DEFAULT_CANDIDATES: tuple[Candidate, ...] = tuple(
    CANDIDATES[name] for name in ("direct", "saturating", "ratio", "two-stage")
)
"""The candidates used unless told otherwise: all but BNSL, whose six-parameter global fit
takes about 0.2 s (against milliseconds for the others; the forecaster refits every
candidate at each inner cut) and whose worst forecasts, at the first cut of each mixture,
are the worst of all laws (chapter 2); a candidate whose inputs the rows lack (other
ratios, a validation loss) is skipped."""
