"""Every law of the registry (scalelib.laws.registry.LAWS), through one interface.

Parameter recovery, a finite-difference check of the Jacobian, determinism and bad
input, for each registered law (the checks of ``law_checks.py``, which a new law passes
too: ``test_new_law.py``). Every run here is SYNTHETIC: generated in the test from
known parameters by the law itself (``synthetic.synthetic_rows``, the tests' shared
helper), never taken from data/.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from law_checks import (
    BAD_INPUTS,
    check_bad_input,
    check_description,
    check_determinism,
    check_jacobian,
    check_recovery,
)

from scalelib.laws.registry import LAWS, law

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
    check_description(LAWS[name], TRUE_PARAMETERS[name])
    assert LAWS[name].title.startswith("Eq. ")  # the library's laws are the paper's equations


@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_recovered_from_synthetic_runs(name):
    check_recovery(LAWS[name], TRUE_PARAMETERS[name])


@pytest.mark.parametrize("name", NAMES)
def test_jacobian_matches_finite_differences(name):
    check_jacobian(LAWS[name], TRUE_PARAMETERS[name])


@pytest.mark.parametrize("name", NAMES)
def test_the_same_runs_give_the_same_fit(name):
    check_determinism(LAWS[name], TRUE_PARAMETERS[name])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case, message", BAD_INPUTS)
def test_bad_input_is_refused_with_a_clear_message(name, case, message):
    check_bad_input(LAWS[name], TRUE_PARAMETERS[name], case, message)


def test_the_laws_import_without_the_intervals():
    """No import cycle: the registry and every law module load without scalelib.evaluation.intervals."""
    code = "import sys, scalelib.laws.registry; print('scalelib.evaluation.intervals' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
