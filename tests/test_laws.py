"""Every law of the registry (scalelib.laws.LAWS), through one interface.

Parameter recovery, a finite-difference check of the Jacobian, determinism and bad
input, for each registered law. Every run here is SYNTHETIC: generated in the test from
known parameters by the law itself (``synthetic.synthetic_rows``, the tests' shared
helper), never taken from data/.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from synthetic import synthetic_rows

from scalelib.laws import LAWS, law
from scalelib.normalise import ScalingDataError

TRUE_PARAMETERS = {
    "direct": [np.log(0.8), 0.15],  # (log A_ref, alpha)
    "saturating": [np.log(0.6), 0.3, 0.2],  # (log A_ref, alpha, E)
    "bnsl": [0.1, np.log(0.7), 0.05, 0.6, 0.0, np.log(0.5)],  # (a, log b_ref, c0, c0 + c1, log d_ref, log f1)
    "ratio": [np.log(0.4), 0.3, np.log(0.5), 0.25],  # (log A_ref, alpha, log B_ref, beta)
    "passk": [0.5, -0.15, -0.3, 0.01],  # (a, alpha, b, delta), log C centred at REFERENCE_COMPUTE
}
"""Synthetic truth, in each law's fitted parametrisation (:attr:`Law.parameters`)."""

NAMES = list(LAWS)


def test_every_law_has_synthetic_parameters_and_one_name():
    assert set(TRUE_PARAMETERS) == set(LAWS)
    assert all(name == described.name for name, described in LAWS.items())


def test_unknown_law_names_the_known_ones():
    with pytest.raises(ValueError, match="known laws: \\['direct', 'saturating', 'bnsl', 'ratio', 'passk'\\]"):
        law("sigmoid")
    assert law(LAWS["direct"]) is LAWS["direct"]


@pytest.mark.parametrize("name", NAMES)
def test_law_description_is_consistent(name):
    described = LAWS[name]
    assert len(TRUE_PARAMETERS[name]) == described.n_parameters
    assert described.min_runs == described.n_parameters + 1
    assert described.title.startswith("Eq. ") and described.title in described.description
    assert described.equation and described.latex
    rows = synthetic_rows(described, TRUE_PARAMETERS[name])
    x = described.inputs(rows, "flops")
    lower, upper = described.bounds(x)
    assert lower.shape == upper.shape == (described.n_parameters,)
    assert np.all(lower <= TRUE_PARAMETERS[name]) and np.all(np.asarray(TRUE_PARAMETERS[name]) <= upper)


@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_recovered_from_synthetic_runs(name):
    described = LAWS[name]
    truth = np.asarray(TRUE_PARAMETERS[name])
    rows = synthetic_rows(described, truth)
    fit = described.fit_rows(rows, "flops")
    np.testing.assert_allclose(described.parameters(fit), truth, atol=1e-4)
    predicted = described.forecaster(compute_column="flops")(rows.copy())(rows.copy())
    np.testing.assert_allclose(predicted, rows["value"], atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_jacobian_matches_finite_differences(name):
    described = LAWS[name]
    truth = np.asarray(TRUE_PARAMETERS[name], dtype=float)
    rows = synthetic_rows(described, truth, scatter=0.05)
    x = described.inputs(rows, "flops")
    log_target = described.target(rows["value"].to_numpy(), float(rows["chance"].iloc[0]))
    at = truth + 0.01  # away from the optimum, inside the bounds
    step = 1e-6
    differences = np.column_stack([
        (described.residuals(at + step * unit, x, log_target) - described.residuals(at - step * unit, x, log_target))
        / (2 * step)
        for unit in np.eye(len(at))
    ])
    jacobian = described.jacobian(at, x, log_target)
    assert jacobian.shape == (len(rows), described.n_parameters)
    np.testing.assert_allclose(jacobian, differences, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_the_same_runs_give_the_same_fit(name):
    described = LAWS[name]
    rows = synthetic_rows(described, TRUE_PARAMETERS[name], scatter=0.02, seed=1)
    first = described.parameters(described.fit_rows(rows.copy(), "flops"))
    second = described.parameters(described.fit_rows(rows.copy(), "flops"))
    np.testing.assert_array_equal(first, second)


def _with_value(rows: pd.DataFrame, position: int, value: float) -> pd.DataFrame:
    rows = rows.copy()
    rows.loc[rows.index[position], "value"] = value
    return rows


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case, message", [
    ("nan", "NaN in accuracy at run 'synthetic"),
    ("at chance", "Accuracy at or below chance"),
    ("below chance", "Accuracy at or below chance"),
    ("too few", "Too few points"),
])
def test_bad_input_is_refused_with_a_clear_message(name, case, message):
    described = LAWS[name]
    rows = synthetic_rows(described, TRUE_PARAMETERS[name])
    chance = float(rows["chance"].iloc[0])
    bad = {
        "nan": lambda: _with_value(rows, 3, np.nan),
        "at chance": lambda: _with_value(rows, 3, chance),
        "below chance": lambda: _with_value(rows, 3, chance - 0.01),
        "too few": lambda: rows.iloc[: described.n_parameters - 1],
    }[case]()
    with pytest.raises(ScalingDataError, match=message):
        described.fit_rows(bad, "flops")


def test_the_laws_import_without_the_intervals():
    """No import cycle: the registry and every law module load without scalelib.intervals."""
    code = "import sys, scalelib.laws; print('scalelib.intervals' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
