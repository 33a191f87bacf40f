"""Tests of scalelib.data.validation: what the shared checks accept, and how they refuse the rest."""

import numpy as np
import pandas as pd
import pytest

from scalelib.laws.bnsl import fit_bnsl
from scalelib.laws.ratio_law import fit_ratio_law
from scalelib.laws.saturating_law import fit_saturating_law
from scalelib.data.validation import (
    MIN_BOOTSTRAP_RESAMPLES,
    ScalingDataError,
    as_numbers,
    check_chance,
    check_compute,
    check_distinct_compute,
    check_n_items,
    check_numeric_columns,
    check_resamples,
    check_unique_index,
)


def test_as_numbers_keeps_numbers_and_their_shape():
    np.testing.assert_array_equal(as_numbers([[1, 2], [3, 4]], "x"), [[1.0, 2.0], [3.0, 4.0]])
    objects = np.array([1e20, np.float32(2.0), 3, None, pd.NA], dtype=object)  # e.g. after a mixed concat
    np.testing.assert_array_equal(as_numbers(objects, "x"), [1e20, 2.0, 3.0, np.nan, np.nan])


@pytest.mark.parametrize(
    ("values", "labels", "match"),
    [
        (["1e20", "2e20"], None, r"x must hold numbers; got '1e20' \(str\) at index 0, 1"),
        (np.array([1.0, "lots"], dtype=object), ["a", "b"], r"got 'lots' \(str\) at run 'b'"),
        ([True, False], None, r"got True \(bool\)"),
        (np.array([1.0, True], dtype=object), ["a"], r"got True \(bool\) at index 1"),  # labels of the wrong length
    ],
)
def test_as_numbers_refuses_what_is_not_a_number(values, labels, match):
    with pytest.raises(ScalingDataError, match=match):
        as_numbers(values, "x", labels)


@pytest.mark.parametrize(
    ("compute", "match"),
    [
        ([1e20, np.nan], r"NaN in compute at run 'b'\."),
        ([1e20, np.inf], r"Infinite compute at run 'b'; compute must be finite\."),
        ([-1e20, 1e20], r"Non-positive compute at run 'a'; compute must be > 0 FLOPs\."),
    ],
)
def test_check_compute_names_the_run(compute, match):
    with pytest.raises(ScalingDataError, match=match):
        check_compute(compute, labels=["a", "b"])


def test_check_compute_names_other_sizes_without_flops():
    with pytest.raises(ScalingDataError, match=r"Non-positive params at index 0; params must be > 0\.$"):
        check_compute([0.0], name="params", unit="")


def test_check_distinct_compute():
    check_distinct_compute([1e20, 1e21, 1e20])
    with pytest.raises(ScalingDataError, match=r"Every run has the same compute \(1e\+20 FLOPs\)"):
        check_distinct_compute([1e20, 1e20])
    with pytest.raises(ScalingDataError, match="No runs given"):
        check_distinct_compute([])


@pytest.mark.parametrize("chance", [0, 0.25, np.float64(0.5), np.float32(0.25), np.int64(0)])
def test_check_chance_accepts_real_numbers(chance):
    assert check_chance(chance) == float(chance)


@pytest.mark.parametrize(
    ("chance", "match"),
    [
        ("0.25", r"must be a real number in \[0, 1\), got '0.25' \(str\)"),
        (None, r"got None \(NoneType\)"),
        (np.array(0.25), r"got array\(0.25\) \(ndarray\)"),
        (False, r"got False \(bool\)"),
        (np.nan, "Chance level is NaN"),
        (1.0, r"must lie in \[0, 1\), got 1.0"),
        (-0.1, r"must lie in \[0, 1\), got -0.1"),
    ],
)
def test_check_chance_refuses_the_rest(chance, match):
    with pytest.raises(ScalingDataError, match=match):
        check_chance(chance)


def test_check_n_items():
    np.testing.assert_array_equal(check_n_items([10, 200], purpose="p"), [10.0, 200.0])
    with pytest.raises(ScalingDataError, match=r"^p needs the number of items .* got 0, nan"):
        check_n_items([10, 0, np.nan], purpose="p")


def test_check_numeric_columns():
    frame = pd.DataFrame({
        "flops": [1e20, 1e21], "objects": pd.Series([1.0, 2], dtype=object), "text": ["a", "b"],
        "flags": [True, False],
    })
    check_numeric_columns(frame, ["flops", "objects", "absent"])
    with pytest.raises(ScalingDataError, match=r"Column 'text' must hold numbers.*'a' in row 0"):
        check_numeric_columns(frame, ["flops", "text"])
    with pytest.raises(ScalingDataError, match=r"Column 'flags' must hold numbers, but has dtype bool"):
        check_numeric_columns(frame, ["flags"])


def test_check_unique_index():
    check_unique_index(pd.DataFrame({"a": [1, 2]}, index=[5, 3]))
    with pytest.raises(ScalingDataError, match=r"index repeats label\(s\) 'x' "):
        check_unique_index(pd.DataFrame({"a": [1, 2, 3]}, index=["x", "y", "x"]))


def test_check_resamples():
    assert check_resamples(MIN_BOOTSTRAP_RESAMPLES) == 20 and check_resamples(np.int64(200)) == 200
    for bad, match in ((19, "at least 20 resamples, got 19"), (True, "whole number"), (50.0, "whole number")):
        with pytest.raises(ValueError, match=match):
            check_resamples(bad)


@pytest.mark.parametrize("bad", [0.0, -1e21, np.inf, np.nan])
def test_robust_law_predictions_refuse_compute_that_is_not_positive_and_finite(bad):
    """Synthetic runs; a fitted law must not return numbers at impossible compute."""
    compute = 1e21 * np.exp(np.linspace(-5.0, 2.0, 30))
    accuracy = 0.25 + 0.75 * np.exp(-(0.05 * np.exp(-0.5 * np.log(compute / 1e21)) + 0.2))
    for fit in (fit_saturating_law(compute, accuracy, chance=0.25), fit_bnsl(compute, accuracy, chance=0.25)):
        with pytest.raises(ScalingDataError, match="compute"):
            fit.predict([1e22, bad])
    params = np.sqrt(compute / (6 * np.where(np.arange(len(compute)) % 2, 20.0, 80.0)))
    tokens = compute / (6 * params)
    ratio_fit = fit_ratio_law(params, tokens, accuracy, chance=0.25)
    with pytest.raises(ScalingDataError, match="params N"):
        ratio_fit.predict([1e9, bad], [2e10, 2e10])
