"""Adding a law is one object: a toy law, defined here alone, goes through everything scalelib does with a law.

The toy law is a logistic in log compute,

    -log Q = A / (1 + exp(k (x - m))),    x = log(C / C_ref),

three parameters ``(log A, k, m)``: a score that takes off around ``C = C_ref e^m``.
It is registered for each test only (:func:`scalelib.laws.registry.temporarily_registered`) and
run through the checks every registered law passes (``law_checks.py``), a compute-cut
backtest, a bootstrap interval, the command line and a forecast figure, with no change
to scalelib. Every run here is SYNTHETIC: generated in the test from known parameters
by the toy law itself (``synthetic.synthetic_rows``), never taken from data/.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from law_checks import (
    BAD_INPUTS,
    check_bad_input,
    check_description,
    check_determinism,
    check_jacobian,
    check_recovery,
)
from numpy.typing import ArrayLike
from scipy.optimize import least_squares
from scipy.special import expit
from synthetic import synthetic_rows

from scalelib import cli
from scalelib.interfaces import Forecaster, law_forecaster
from scalelib.evaluation.backtest import backtest, forecasts_below_cut
from scalelib.plots.forecasts import plot_forecasts
from scalelib.interfaces import Law, centred_log_compute, fit_compute_law_to_rows
from scalelib.evaluation.intervals import PredictionInterval, law_interval_forecaster
from scalelib.laws.registry import LAWS, register_law, temporarily_registered
from scalelib.data.normalise import (
    REFERENCE_COMPUTE,
    accuracy_from_neg_log_q,
    log_compute_offset,
    neg_log_q,
    validate_law_inputs,
)

NAME = "toy-logistic"
TRUTH = np.array([np.log(2.0), 0.8, 0.0])
"""SYNTHETIC truth ``(log A, k, m)``: the score takes off at C_ref = 1e21 FLOPs."""

CUT = REFERENCE_COMPUTE
"""The backtests fit the synthetic runs at or below 1e21 FLOPs and score the six above it."""


# --------------------------------------------------------------------------- the toy law, one object


def toy_neg_log_q(x: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """``-log Q = A / (1 + exp(k (x - m)))`` on centred log compute x."""
    log_A, k, m = parameters
    return np.exp(log_A - np.logaddexp(0.0, k * (x - m)))


def toy_residuals(parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray) -> np.ndarray:
    """``log A - log(1 + exp(k (x - m))) - log(-log Q)``."""
    return np.log(toy_neg_log_q(x, parameters)) - log_target


def toy_jacobian(parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray) -> np.ndarray:
    """Columns ``1``, ``-(x - m) s`` and ``k s``, ``s = expit(k (x - m))``."""
    _, k, m = parameters
    share = expit(k * (x - m))
    return np.column_stack([np.ones_like(x), -(x - m) * share, k * share])


def toy_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``k >= 0`` (the score rises with compute) and the take-off within 5 e-folds of the runs."""
    return np.array([-10.0, 0.0, x.min() - 5.0]), np.array([10.0, 10.0, x.max() + 5.0])


@dataclass(frozen=True)
class ToyFit:
    """The fitted ``(log A, k, m)`` and the chance level; ``predict`` as :func:`scalelib.interfaces.law_forecaster` needs."""

    parameters: np.ndarray
    chance: float

    def predict(self, compute: ArrayLike) -> np.ndarray:
        return accuracy_from_neg_log_q(toy_neg_log_q(log_compute_offset(compute), self.parameters), self.chance)


def fit_toy(compute: ArrayLike, accuracy: ArrayLike, *, chance: float, labels: Sequence[str] | None = None) -> ToyFit:
    """Least squares in ``log(-log Q)`` (scipy), from three take-off points; the best start wins."""
    compute, accuracy = validate_law_inputs(compute, accuracy, chance=chance, n_parameters=3, labels=labels)
    x, log_target = log_compute_offset(compute), np.log(neg_log_q(accuracy, chance))
    fits = [
        least_squares(toy_residuals, [log_target.max(), 1.0, start], jac=toy_jacobian, bounds=toy_bounds(x),
                      args=(x, log_target), xtol=1e-12, ftol=1e-12, gtol=1e-12)
        for start in np.quantile(x, [0.25, 0.5, 0.75])
    ]
    return ToyFit(min(fits, key=lambda fit: fit.cost).x, chance)


def toy_forecaster(*, compute_column: str = "flops") -> Forecaster:
    """The toy law's :data:`~scalelib.interfaces.Forecaster`, as every law's ``forecaster``."""
    return law_forecaster(fit_toy, compute_column=compute_column)


TOY_LAW = Law(
    name=NAME,
    title="toy logistic",
    description="toy logistic, -log Q = A / (1 + exp(k (log C - m))), per group (SYNTHETIC test law)",
    equation="-log Q = A / (1 + exp(k (log C - m)))",
    latex=r"-\log Q = A / (1 + e^{k (\log C - m)})",
    columns=("flops",),
    n_parameters=3,
    min_runs=4,
    inputs=centred_log_compute,
    neg_log_q=toy_neg_log_q,
    residuals=toy_residuals,
    jacobian=toy_jacobian,
    bounds=toy_bounds,
    fit=fit_toy,
    fit_rows=fit_compute_law_to_rows(fit_toy),
    parameters=lambda fit: fit.parameters,
    forecaster=toy_forecaster,
)


@pytest.fixture
def toy() -> Iterator[Law]:
    """The toy law in the registry for one test, gone after it."""
    with temporarily_registered(TOY_LAW) as law:
        yield law
    assert NAME not in LAWS


def toy_runs(scatter: float = 0.0) -> pd.DataFrame:
    """SYNTHETIC runs of the toy law (16 runs, 1e18.5 to 1e22.5 FLOPs), as HellaSwag for the figure's panel."""
    rows = synthetic_rows(TOY_LAW, TRUTH, scatter=scatter)
    return rows.assign(benchmark="hellaswag", metric="acc_norm")


# --------------------------------------------------------------------------- the registry


def test_registration_is_temporary_and_refuses_a_taken_name(toy):
    assert LAWS[NAME] is toy
    with pytest.raises(ValueError, match="registered already"):
        register_law(toy)


# --------------------------------------------------------------------------- the checks every law passes


def test_toy_law_passes_the_checks_of_every_law(toy):
    check_description(toy, TRUTH)
    check_recovery(toy, TRUTH)
    check_jacobian(toy, TRUTH)
    check_determinism(toy, TRUTH)


@pytest.mark.parametrize("case, message", BAD_INPUTS)
def test_toy_law_refuses_bad_input(toy, case, message):
    check_bad_input(toy, TRUTH, case, message)


# --------------------------------------------------------------------------- backtest, interval, command line, figure


def test_toy_law_backtests_at_a_compute_cut(toy):
    result = backtest(toy_runs(), toy.forecaster(compute_column="flops"), compute_cut=CUT)
    held_out = result[result["flops"] > CUT]
    assert len(held_out) == 6 and (held_out["status"] == "ok").all()
    np.testing.assert_allclose(held_out["predicted"], held_out["observed"], atol=1e-6)  # noise-free runs


def test_toy_law_gets_a_bootstrap_interval_by_name(toy):
    rows = toy_runs(scatter=0.05)
    training, held_out = rows[rows["flops"] <= CUT], rows[rows["flops"] > CUT]
    forecaster = law_interval_forecaster(NAME, interval="bootstrap", n_resamples=40, progress=False)
    interval = forecaster(training)(held_out, 0.9)
    assert interval.method.startswith(f"{NAME}, bootstrap, prediction")
    assert np.all(interval.lower < interval.predicted) and np.all(interval.predicted < interval.upper)
    with pytest.raises(ValueError, match="the direct and passk laws only; use interval='bootstrap'"):
        law_interval_forecaster(NAME)  # no analytic interval: refused from the Law, not its name


def test_toy_law_forecasts_from_the_command_line(toy, tmp_path, capsys):
    path, output = tmp_path / "runs.csv", tmp_path / "forecasts.csv"
    toy_runs(scatter=0.05).rename(columns={"value": "accuracy"}).to_csv(path, index=False)
    code = cli.main([str(path), "--law", NAME, "--target-flops", "1e23", "--cut", str(CUT), "--resamples", "20",
                     "--output", str(output)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"Law: {NAME} ({TOY_LAW.description})" in out
    table = pd.read_csv(output)
    assert (table["law"] == NAME).all() and (table["status"] == "ok").all()
    assert (table["lower"] < table["predicted"]).all() and (table["predicted"] < table["upper"]).all()


def test_toy_law_is_drawn_in_a_forecast_figure(toy):
    rows = toy_runs(scatter=0.05)
    forecaster = law_interval_forecaster(NAME, interval="bootstrap", n_resamples=20, progress=False)
    figure = plot_forecasts(
        rows,
        {"toy law": forecasts_below_cut(rows, toy.forecaster(), compute_cut=CUT),
         "toy law, 90% interval": forecasts_below_cut(rows, forecaster, compute_cut=CUT)},
        compute_cut=CUT, title="SYNTHETIC runs of a toy law",
    )
    ax = figure.axes[0]
    assert {"toy law", "toy law, 90% interval"} <= {line.get_label() for line in ax.get_lines()}
    assert isinstance(forecasts_below_cut(rows, forecaster, compute_cut=CUT)["hellaswag"](np.array([1e22])),
                      PredictionInterval)
    plt.close(figure)
