"""Checks any :class:`~scalelib.interfaces.Law` must pass, on SYNTHETIC runs of that law.

Shared by ``test_laws.py`` (every registered law) and ``test_new_law.py`` (a toy law
registered by the test): parameter recovery, a finite-difference check of the Jacobian,
determinism and bad input. The runs come from ``synthetic.synthetic_rows``: generated
from known parameters by the law itself, never taken from data/.

Imported by the tests (``from law_checks import ...``; pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.typing import ArrayLike
from synthetic import synthetic_rows

from scalelib.interfaces import Law
from scalelib.data.normalise import ScalingDataError

BAD_INPUTS = [
    ("nan", "NaN in accuracy at run 'synthetic"),
    ("at chance", "Accuracy at or below chance"),
    ("below chance", "Accuracy at or below chance"),
    ("too few", "Too few points"),
]
"""Bad runs every law refuses, with the start of its message: ``(case, message)``."""


def check_description(described: Law, truth: ArrayLike) -> None:
    """The description agrees with itself: parameters, minimum runs, equation, bounds around the truth."""
    assert len(truth) == described.n_parameters
    assert described.min_runs == described.n_parameters + 1
    assert described.title in described.description
    assert described.equation and described.latex
    rows = synthetic_rows(described, truth)
    x = described.inputs(rows, "flops")
    lower, upper = described.bounds(x)
    assert lower.shape == upper.shape == (described.n_parameters,)
    assert np.all(lower <= truth) and np.all(np.asarray(truth) <= upper)


def check_recovery(described: Law, truth: ArrayLike) -> None:
    """Noise-free synthetic runs give back the parameters, and the forecaster the runs."""
    truth = np.asarray(truth)
    rows = synthetic_rows(described, truth)
    fit = described.fit_rows(rows, "flops")
    np.testing.assert_allclose(described.parameters(fit), truth, atol=1e-4)
    predicted = described.forecaster(compute_column="flops")(rows.copy())(rows.copy())
    np.testing.assert_allclose(predicted, rows["value"], atol=1e-6)


def check_jacobian(described: Law, truth: ArrayLike) -> None:
    """The Jacobian of the residuals matches central finite differences, near the truth."""
    truth = np.asarray(truth, dtype=float)
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


def check_determinism(described: Law, truth: ArrayLike) -> None:
    """The same runs give the same fit, to the last bit."""
    rows = synthetic_rows(described, truth, scatter=0.02, seed=1)
    first = described.parameters(described.fit_rows(rows.copy(), "flops"))
    second = described.parameters(described.fit_rows(rows.copy(), "flops"))
    np.testing.assert_array_equal(first, second)


def _with_value(rows: pd.DataFrame, position: int, value: float) -> pd.DataFrame:
    rows = rows.copy()
    rows.loc[rows.index[position], "value"] = value
    return rows


def check_bad_input(described: Law, truth: ArrayLike, case: str, message: str) -> None:
    """One case of :data:`BAD_INPUTS` is refused with a :class:`ScalingDataError` that says why."""
    rows = synthetic_rows(described, truth)
    chance = float(rows["chance"].iloc[0])
    bad = {
        "nan": lambda: _with_value(rows, 3, np.nan),
        "at chance": lambda: _with_value(rows, 3, chance),
        "below chance": lambda: _with_value(rows, 3, chance - 0.01),
        "too few": lambda: rows.iloc[: described.n_parameters - 1],
    }[case]()
    with pytest.raises(ScalingDataError, match=message):
        described.fit_rows(bad, "flops")
