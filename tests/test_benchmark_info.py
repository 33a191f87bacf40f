"""The benchmark metadata agrees with what the released scores themselves say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelib.data import released as data
from scalelib.data.benchmark_info import BENCHMARKS, benchmark_table, get_benchmark


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    return data.load_results()


def _smallest_denominator(values: np.ndarray, limit: int = 20_000) -> int | None:
    """Smallest n for which every value is an integer multiple of 1/n."""
    for n in range(1, limit + 1):
        scaled = values * n
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return n
    return None


@pytest.mark.parametrize("name", [n for n, b in BENCHMARKS.items() if b.n_items_source == "inferred from the data"])
def test_inferred_sizes_match_the_scores(results, name):
    benchmark = BENCHMARKS[name]
    scores = results.loc[(results["benchmark"] == name) & (results["metric"] == benchmark.default_metric), "value"]
    assert len(scores) > 0
    assert _smallest_denominator(scores.to_numpy()) == benchmark.n_items


def test_every_released_benchmark_has_metadata(results):
    released = set(results["benchmark"]) - {"c4", "dclm", "fineweb"}
    assert released == set(BENCHMARKS)


def test_default_metric_is_released_for_every_run(results):
    for name, benchmark in BENCHMARKS.items():
        rows = results[results["benchmark"] == name]
        assert set(rows["run"]) == set(rows.loc[rows["metric"] == benchmark.default_metric, "run"]), name


def test_chance_levels():
    table = benchmark_table()
    assert table.loc["piqa", "chance"] == 0.5 and table.loc["winogrande", "chance"] == 0.5
    assert table.loc["hellaswag", "chance"] == 0.25 and table.loc["mmlu", "chance"] == 0.25
    assert (table.loc[table["task_type"] != "multiple_choice", "chance"] == 0).all()


def test_sciq_acc_norm_is_below_acc_for_every_run(results):
    """The reason given for SciQ's default metric."""
    sciq = results[results["benchmark"] == "sciq"].pivot(index="run", columns="metric", values="value")
    assert (sciq["acc_norm"] < sciq["acc"]).all()


def test_math_overall_is_the_mean_of_its_subjects(results):
    """The reason MATH's size cannot be inferred: its score is a macro-average."""
    math = results[results["benchmark"].str.startswith("math_") & (results["metric"] == "exact_match")]
    table = math.pivot(index="run", columns="benchmark", values="value")
    subjects = table.drop(columns="math_minerva")
    assert subjects.shape[1] == 7
    np.testing.assert_allclose(table["math_minerva"], subjects.mean(axis=1), rtol=1e-9)
    assert sum(BENCHMARKS[s].n_items for s in subjects.columns) == BENCHMARKS["math_minerva"].n_items


def test_unknown_benchmark_lists_known_names():
    with pytest.raises(KeyError, match="unknown benchmark 'hella'; known benchmarks: arc_challenge"):
        get_benchmark("hella")
