"""Property-based tests (hypothesis): valid inputs never crash, each invalid input class has its own error.

All inputs are synthetic, drawn by hypothesis. ``derandomize=True`` makes every run draw
the same examples, so the tests are deterministic (and ``database=None`` writes no
example database); ``max_examples`` is kept small so that the file runs in seconds.
"""

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scalelib.laws.bnsl import fit_bnsl
from scalelib.cli import RunsFileError, read_runs
from scalelib.laws.direct_law import fit_direct_law
from scalelib.evaluation.intervals import direct_law_bootstrap, direct_law_interval, law_interval_forecaster
from scalelib.data.normalise import ScalingDataError, validate_law_inputs
from scalelib.laws.pass_at_k import pass_at_k
from scalelib.laws.saturating_law import fit_saturating_law

FAST = settings(
    max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
SLOW = settings(FAST, max_examples=8)

CHANCES = st.sampled_from([0.0, 0.25, 0.5])
REPEATED_LOG_COMPUTE = st.sampled_from([18.0, 19.5, 21.0])
"""A few compute values, so that draws repeat them (and sometimes hold only one)."""


@st.composite
def law_inputs(draw, min_runs=2, max_runs=24):
    """Valid runs of one benchmark: (compute, accuracy, chance), two or more compute values.

    Compute from 1e17 to 1e24 FLOPs; chance-normalised accuracy Q in [0.001, 0.999].
    """
    n_runs = draw(st.integers(min_runs, max_runs))
    log_compute = draw(st.lists(st.floats(17.0, 24.0) | REPEATED_LOG_COMPUTE, min_size=n_runs, max_size=n_runs))
    assume(len(set(log_compute)) >= 2)
    q = draw(st.lists(st.floats(0.001, 0.999), min_size=n_runs, max_size=n_runs))
    chance = draw(CHANCES)
    return 10.0 ** np.array(log_compute), chance + (1.0 - chance) * np.array(q), chance


@st.composite
def noisy_law_inputs(draw, min_runs, max_runs):
    """Valid runs scattered about a random Eq. 2 curve: ``log(-log Q) = b - alpha log(C / 1e20) + noise``."""
    n_runs = draw(st.integers(min_runs, max_runs))
    log_compute = np.array(draw(st.lists(st.floats(17.0, 24.0), min_size=n_runs, max_size=n_runs, unique=True)))
    alpha, intercept = draw(st.floats(0.1, 0.6)), draw(st.floats(-2.0, 1.5))
    noise = np.array(draw(st.lists(st.floats(-0.3, 0.3), min_size=n_runs, max_size=n_runs)))
    chance = draw(CHANCES)
    q = np.clip(np.exp(-np.exp(intercept - alpha * np.log(10.0) * (log_compute - 20.0) + noise)), 1e-3, 0.999)
    return 10.0**log_compute, chance + (1.0 - chance) * q, chance


def assert_accuracies(values, chance):
    values = np.asarray(values)
    assert np.all(np.isfinite(values)) and np.all(values >= chance) and np.all(values <= 1.0)


# --------------------------------------------------------------------------- fits


@FAST
@given(law_inputs())
def test_direct_law_fits_any_valid_runs(inputs):
    compute, accuracy, chance = inputs
    fit = fit_direct_law(compute, accuracy, chance=chance)
    assert np.isfinite(fit.alpha) and fit.A > 0
    assert_accuracies(fit.predict(np.logspace(17, 25, 9)), chance)


@FAST
@given(st.lists(REPEATED_LOG_COMPUTE, min_size=6, max_size=12), st.data())
def test_repeated_compute_is_fitted_and_a_single_value_refused(log_compute, data):
    """Runs may share compute values; runs at one compute value alone leave no slope to fit."""
    compute = 10.0 ** np.array(log_compute)
    accuracy = np.array(data.draw(st.lists(st.floats(0.3, 0.95), min_size=len(compute), max_size=len(compute))))
    if len(set(log_compute)) == 1:
        for fit in (fit_direct_law, fit_saturating_law, fit_bnsl):
            with pytest.raises(ScalingDataError, match="Every run has the same compute"):
                fit(compute, accuracy, chance=0.25)
    else:
        fit = fit_direct_law(compute, accuracy, chance=0.25)
        assert np.isfinite(fit.alpha) and np.isfinite(fit.A)


@FAST
@given(law_inputs(min_runs=3), st.sampled_from([np.inf, -np.inf]), st.data())
def test_infinite_compute_is_refused_by_every_entry_point(inputs, infinity, data):
    """Infinite compute is refused, in the runs and in the forecasts, not left to die in an SVD."""
    compute, accuracy, chance = inputs
    position = data.draw(st.integers(0, len(compute) - 1))
    runs = (np.where(np.arange(len(compute)) == position, infinity, compute), accuracy)
    for call in (
        lambda: fit_direct_law(*runs, chance=chance),
        lambda: fit_saturating_law(*runs, chance=chance),
        lambda: direct_law_interval(*runs, chance=chance, at_compute=1e22),
        lambda: direct_law_bootstrap(*runs, chance=chance, at_compute=1e22),
    ):
        with pytest.raises(ScalingDataError, match=f"Infinite compute at index {position}"):
            call()
    with pytest.raises(ScalingDataError, match="Infinite at_compute at index 1"):
        direct_law_interval(compute, accuracy, chance=chance, at_compute=[1e22, infinity], n_items=500)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_direct_law_on_identical_accuracies():
    """A flat benchmark has a flat law and an undefined R^2 (NaN, without a 0/0 warning)."""
    fit = fit_direct_law([1e18, 1e19, 1e20], [0.5, 0.5, 0.5], chance=0.0)
    assert fit.alpha == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(fit.r_squared)


@SLOW
@given(law_inputs(min_runs=3, max_runs=12))
def test_saturating_law_fits_any_valid_runs(inputs):
    compute, accuracy, chance = inputs
    fit = fit_saturating_law(compute, accuracy, chance=chance)
    assert np.isfinite(fit.objective) and fit.E >= 0 and 0 <= fit.alpha <= 5
    assert_accuracies(fit.predict(np.logspace(17, 25, 9)), chance)


@settings(SLOW, max_examples=3)
@given(noisy_law_inputs(min_runs=8, max_runs=12))
def test_bnsl_fits_noisy_power_laws(inputs):
    """BNSL takes seconds per fit on uniformly random accuracies, so here its runs scatter about a power law."""
    compute, accuracy, chance = inputs
    fit = fit_bnsl(compute, accuracy, chance=chance)
    assert np.isfinite(fit.objective) and fit.a >= 0
    assert_accuracies(fit.predict(np.logspace(17, 25, 9)), chance)


# --------------------------------------------------------------------------- pass@k estimator


@st.composite
def sample_counts(draw):
    """Per-problem (n samples, c correct) and a k <= min n."""
    n = np.array(draw(st.lists(st.integers(1, 300), min_size=1, max_size=20)))
    c = np.array([draw(st.integers(0, int(value))) for value in n])
    k = draw(st.integers(1, int(n.min())))
    return n, c, k


@FAST
@given(sample_counts())
def test_pass_at_k_estimator_is_a_probability_rising_with_k(counts):
    n, c, k = counts
    values = pass_at_k(n, c, k)
    assert np.all((values >= 0) & (values <= 1))
    np.testing.assert_allclose(pass_at_k(n, c, 1), c / n, rtol=1e-12)
    if k > 1:
        assert np.all(pass_at_k(n, c, k - 1) <= values + 1e-12)


@pytest.mark.parametrize(
    ("n", "c", "k", "match"),
    [
        (10, 3, 11, "k > n_samples"),
        (10, 11, 2, r"n_correct must lie in \[0, n_samples\]"),
        (10, -1, 2, r"n_correct must lie in \[0, n_samples\]"),
        (0, 0, 1, "n_samples must be >= 1"),
        (10, 3, 0, "k must be >= 1"),
        (10.5, 3, 2, "n_samples must hold whole numbers"),
        (10, 3, np.nan, "k must hold whole numbers"),
        (10, 2.5, 1, "n_correct must hold whole numbers"),
    ],
)
def test_pass_at_k_estimator_refuses_each_invalid_input(n, c, k, match):
    with pytest.raises(ValueError, match=match):
        pass_at_k(n, c, k)


# --------------------------------------------------------------------------- validation


CORRUPTIONS = {
    "nan compute": (lambda c, a, chance: (np.r_[c[:-1], np.nan], a, chance), "NaN in compute"),
    "nan accuracy": (lambda c, a, chance: (c, np.r_[a[:-1], np.nan], chance), "NaN in accuracy"),
    "negative compute": (lambda c, a, chance: (np.r_[c[:-1], -c[-1]], a, chance), "Non-positive compute"),
    "zero compute": (lambda c, a, chance: (np.r_[c[:-1], 0.0], a, chance), "Non-positive compute"),
    "perfect accuracy": (lambda c, a, chance: (c, np.r_[a[:-1], 1.0], chance), "Accuracy >= 1"),
    "accuracy at chance": (lambda c, a, chance: (c, np.r_[a[:-1], chance], chance), "at or below chance"),
    "mismatched lengths": (lambda c, a, chance: (c[:-1], a, chance), "Mismatched lengths"),
    "chance of 1": (lambda c, a, chance: (c, a, 1.0), r"Chance level must lie in \[0, 1\)"),
    "nan chance": (lambda c, a, chance: (c, a, np.nan), "Chance level is NaN"),
    "too few runs": (lambda c, a, chance: (c[:1], a[:1], chance), "Too few points"),
    "infinite compute": (lambda c, a, chance: (np.r_[c[:-1], np.inf], a, chance), "Infinite compute"),
    "one compute value": (lambda c, a, chance: (np.full_like(c, c[0]), a, chance), "Every run has the same compute"),
    "compute as text": (lambda c, a, chance: (c.astype(str), a, chance), "compute must hold numbers"),
    "chance as text": (lambda c, a, chance: (c, a, str(chance)), "Chance level must be a real number"),
    "chance missing": (lambda c, a, chance: (c, a, None), "Chance level must be a real number"),
}


@FAST
@given(law_inputs(min_runs=3), st.sampled_from(sorted(CORRUPTIONS)))
def test_each_corruption_of_valid_runs_raises_its_own_error(inputs, corruption):
    corrupt, match = CORRUPTIONS[corruption]
    compute, accuracy, chance = corrupt(*inputs)
    with pytest.raises(ScalingDataError, match=match):
        validate_law_inputs(compute, accuracy, chance=chance, n_parameters=2)


# --------------------------------------------------------------------------- intervals


@FAST
@given(law_inputs(min_runs=3), st.floats(0.05, 0.99), st.floats(0.0, 0.3))
def test_analytic_interval_brackets_the_forecast(inputs, level, drift_rate):
    """Runs on the law exactly (e.g. equal accuracies) get the evaluation-noise floor of n_items."""
    compute, accuracy, chance = inputs
    at = np.logspace(16, 25, 5)
    options = dict(chance=chance, at_compute=at, level=level, n_items=500)
    plain = direct_law_interval(compute, accuracy, **options)
    wider = direct_law_interval(compute, accuracy, drift_rate=drift_rate, **options)
    for interval in (plain, wider):
        assert_accuracies(np.r_[interval.lower, interval.upper], chance)
        assert np.all(interval.lower <= interval.predicted) and np.all(interval.predicted <= interval.upper)
    assert np.all(wider.lower <= plain.lower) and np.all(plain.upper <= wider.upper)


@FAST
@given(law_inputs(min_runs=3), st.integers(1, 50), st.integers(0, 2**32 - 1))
def test_direct_law_bootstrap_is_reproducible_for_any_runs(inputs, n_resamples, seed):
    compute, accuracy, chance = inputs
    arguments = dict(chance=chance, at_compute=[1e22, 1e23], n_resamples=n_resamples, seed=seed)
    first = direct_law_bootstrap(compute, accuracy, **arguments)
    assert first.shape == (n_resamples, 2)
    np.testing.assert_array_equal(first, direct_law_bootstrap(compute, accuracy, **arguments))


@SLOW
@given(law_inputs(min_runs=3, max_runs=16))
def test_calibrated_interval_forecaster_either_brackets_or_refuses(inputs):
    compute, accuracy, chance = inputs
    rows = pd.DataFrame({"run": [f"r{i}" for i in range(len(compute))], "benchmark": "b", "flops": compute,
                         "value": accuracy, "chance": chance})
    try:
        predict = law_interval_forecaster()(rows)
    except ScalingDataError as error:
        assert "Too few runs to calibrate" in str(error)
        return
    interval = predict(pd.DataFrame({"flops": [1e23]}), 0.9)
    assert interval.lower[0] <= interval.predicted[0] <= interval.upper[0]


# --------------------------------------------------------------------------- CLI reader


@st.composite
def runs_tables(draw):
    """A valid runs table as a list of dicts (benchmark, accuracy, flops, chance, run)."""
    n_rows = draw(st.integers(1, 12))
    names = draw(st.lists(st.sampled_from(["task_a", "task b", "täsk,c"]), min_size=n_rows, max_size=n_rows))
    chances = {name: draw(st.sampled_from([0.0, 0.25, 0.5])) for name in set(names)}
    return [
        {
            "benchmark": name,
            "accuracy": draw(st.floats(0.0, 0.999)),
            "flops": draw(st.floats(1e15, 1e26) | st.sampled_from([1e20, 1e21])),  # repeats too
            "chance": chances[name],
            "run": f"run {index}",
        }
        for index, name in enumerate(names)
    ]


def as_csv(rows, columns=("benchmark", "accuracy", "flops", "chance", "run")):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


@FAST
@given(runs_tables())
def test_reader_reads_any_valid_table_exactly(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("runs") / "runs.csv"
    path.write_text(as_csv(rows), encoding="utf-8")
    frame = read_runs(path)
    assert frame["benchmark"].tolist() == [row["benchmark"] for row in rows]
    assert frame["value"].tolist() == [row["accuracy"] for row in rows]
    assert frame["flops"].tolist() == [row["flops"] for row in rows]
    assert frame["line"].tolist() == list(range(2, len(rows) + 2))


FILE_CORRUPTIONS = {
    "accuracy above 1": (lambda row: {**row, "accuracy": 1.5}, r"fraction in \[0, 1\]"),
    "accuracy below 0": (lambda row: {**row, "accuracy": -0.2}, r"fraction in \[0, 1\]"),
    "accuracy is text": (lambda row: {**row, "accuracy": "high"}, "Column 'accuracy' must hold finite numbers"),
    "accuracy is empty": (lambda row: {**row, "accuracy": ""}, "Column 'accuracy' has empty cells"),
    "compute is text": (lambda row: {**row, "flops": "1e20 FLOPs"}, "Column 'flops' must hold finite numbers"),
    "compute is negative": (lambda row: {**row, "flops": -1e20}, "Column 'flops' must be positive"),
    "compute is infinite": (lambda row: {**row, "flops": "inf"}, "Column 'flops' must hold finite numbers"),
    "chance is 1": (lambda row: {**row, "chance": 1.0}, r"Chance must lie in \[0, 1\)"),
    "benchmark is empty": (lambda row: {**row, "benchmark": ""}, "Column 'benchmark' has empty cells"),
}


@FAST
@given(runs_tables(), st.sampled_from(sorted(FILE_CORRUPTIONS)), st.data())
def test_each_corruption_of_a_valid_file_raises_its_own_error(tmp_path_factory, rows, corruption, data):
    corrupt, match = FILE_CORRUPTIONS[corruption]
    position = data.draw(st.integers(0, len(rows) - 1))
    rows = [corrupt(row) if index == position else row for index, row in enumerate(rows)]
    path = tmp_path_factory.mktemp("runs") / "runs.csv"
    path.write_text(as_csv(rows), encoding="utf-8")
    with pytest.raises(RunsFileError, match=match) as error:
        read_runs(path)
    assert f"line {position + 2}" in str(error.value)


@FAST
@given(runs_tables(), st.sampled_from(["benchmark", "accuracy", "flops"]))
def test_a_missing_column_is_named(tmp_path_factory, rows, dropped):
    path = tmp_path_factory.mktemp("runs") / "runs.csv"
    path.write_text(as_csv(rows, [c for c in ("benchmark", "accuracy", "flops", "chance") if c != dropped]))
    match = "No compute given" if dropped == "flops" else f"Missing column\\(s\\) \\['{dropped}'\\]"
    with pytest.raises(RunsFileError, match=match):
        read_runs(path)
