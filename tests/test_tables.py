"""Tests of scalelib.tables: formats, units, splitting to the page width, folding, determinism."""

import numpy as np
import pandas as pd
import pytest

from scalelib import tables
from scalelib.data.normalise import ScalingDataError
from scalelib.tables import (
    MISSING,
    benchmark_labels,
    book_table,
    glue_rounded,
    plus_minus,
)

LAWS = ["Eq. 4", "Eq. 2 per ratio", "Eq. 2, one line"]
RATIOS = ["tpr 10", "tpr 20", "tpr 40", "tpr 80", "tpr 160"]


def errors_frame(n_rows=3, columns=None):
    columns = LAWS if columns is None else columns
    values = np.arange(n_rows * len(columns), dtype=float).reshape(n_rows, -1) / 7
    index = pd.Index([f"bench_{i}" for i in range(n_rows)], name="benchmark")
    return pd.DataFrame(values, index=index, columns=columns)


def wide_two_level_frame():
    columns = pd.MultiIndex.from_product([["Eq. 4", "Eq. 2, one line"], RATIOS], names=["law", "split"])
    return errors_frame(columns=columns)


def test_numbers_are_formatted_with_units_and_missing_values_show_as_a_dash():
    frame = pd.DataFrame(
        {"error": [1.23456, np.nan], "runs": [12, 7], "covered": [True, False], "note": ["a", None]},
        index=pd.Index(["x", "y"], name="benchmark"),
    )
    table = book_table(frame, "Errors", units={"error": "points"}, formats={"error": "{:.1f}"})
    (part,) = table.parts
    assert list(part.cells.columns) == ["benchmark", "error (points)", "runs", "covered", "note"]
    assert part.cells.iloc[0].tolist() == ["x", "1.2", "12", "yes", "a"]
    assert part.cells.iloc[1].tolist() == ["y", MISSING, "7", "no", MISSING]
    assert "NaN" not in table.to_html() and "nan" not in repr(table)


def test_default_float_format_and_callable_formats():
    frame = pd.DataFrame({"a": [0.123456], "b": [1234.5]})
    table = book_table(frame, "Two numbers", formats={"b": lambda value: f"{value:.1e}"}, float_format="{:.3f}")
    assert table.parts[0].cells.iloc[0].tolist() == ["0.123", "1.2e+03"]


def test_a_default_range_index_is_dropped_and_a_named_index_becomes_key_columns():
    unnamed = book_table(pd.DataFrame({"a": [1.0, 2.0]}), "No index")
    assert list(unnamed.parts[0].cells.columns) == ["a"] and unnamed.parts[0].n_keys == 0
    frame = errors_frame().set_index(pd.MultiIndex.from_tuples([("m", 1), ("m", 2), ("n", 1)], names=["mix", "k"]))
    keyed = book_table(frame, "Two keys")
    assert list(keyed.parts[0].cells.columns[:2]) == ["mix", "k"] and keyed.parts[0].n_keys == 2
    assert book_table(frame, "Dropped", index=False).parts[0].n_keys == 0


def test_a_table_that_fits_stays_whole_and_narrow_tables_are_not_folded():
    table = book_table(errors_frame(), "Errors per law")
    assert len(table.parts) == 1 and table.parts[0].title is None
    assert table.width <= tables.TEXT_COLUMN_CHARACTERS
    assert not table.folded and "<details>" not in table.to_html()


def test_a_wide_two_level_table_is_split_by_its_top_level_and_every_part_fits():
    frame = wide_two_level_frame()
    assert book_table(frame, "x", max_width=10_000).width > tables.TEXT_COLUMN_CHARACTERS
    table = book_table(frame, "Leave one ratio out", units={"tpr 10": "points"})
    assert [part.title for part in table.parts] == ["Eq. 4", "Eq. 2, one line"]
    for part in table.parts:
        assert part.width <= tables.TEXT_COLUMN_CHARACTERS
        assert part.cells.iloc[:, 0].tolist() == ["bench_0", "bench_1", "bench_2"], "keys repeated in each part"
        assert [label[1] for label in part.cells.columns[1:]] == ["tpr 10 (points)", *RATIOS[1:]]
    html = table.to_html()
    assert html.count("<table") == 2 and "Leave one ratio out [Eq. 4]" in html and 'colspan="5"' in html


def test_units_and_formats_can_name_a_whole_group_of_a_two_level_table():
    frame = wide_two_level_frame()
    table = book_table(frame, "Groups", formats={"Eq. 4": "{:.0f}"}, max_width=500)
    (part,) = table.parts
    assert part.cells[("Eq. 4", "tpr 20")].tolist() == ["0", "2", "3"]
    assert part.cells[("Eq. 2, one line", "tpr 20")].iloc[0] == "0.86"


def test_a_wide_flat_table_is_split_into_consecutive_columns_that_each_fit():
    columns = [f"a rather long column label number {i}" for i in range(12)]
    frame = errors_frame(n_rows=4, columns=columns)
    table = book_table(frame, "Many columns", transpose=False, max_width=40)
    assert len(table.parts) > 1
    assert all(part.width <= 40 for part in table.parts)
    assert [part.title for part in table.parts] == [f"part {i + 1} of {len(table.parts)}" for i in range(len(table.parts))]
    kept = [label for part in table.parts for label in part.cells.columns[1:]]
    assert kept == columns, "every column once, in order"


def test_a_wide_table_with_few_rows_is_transposed_when_its_transpose_fits():
    frame = pd.DataFrame(
        [np.linspace(0, 1, 10)], index=pd.Index(["HumanEval"], name="benchmark"),
        columns=[f"quantity_{i}" for i in range(10)],
    )
    table = book_table(frame, "One row", max_width=40)
    (part,) = table.parts
    assert list(part.cells.columns) == ["", "HumanEval"]
    assert part.cells[""].tolist() == list(frame.columns)
    assert book_table(frame, "Kept", max_width=40, transpose=False).parts[0].n_keys == 1


def test_long_tables_fold_into_a_dropdown_and_folding_can_be_forced():
    long = book_table(errors_frame(n_rows=tables.FOLD_AFTER_ROWS + 1), "Long")
    assert long.folded and long.to_html().count("<details>") == 1
    assert "<summary>Long (16 rows: click to show)</summary>" in long.to_html()
    assert not book_table(errors_frame(n_rows=40), "Forced", fold=False).folded
    assert book_table(errors_frame(), "Forced", fold=True).folded


def test_html_is_deterministic_escaped_and_free_of_ids():
    frame = wide_two_level_frame()
    first, second = book_table(frame, "A < B & C").to_html(), book_table(frame.copy(), "A < B & C").to_html()
    assert first == second
    assert "A &lt; B &amp; C" in first and " id=" not in first and "uuid" not in first
    assert repr(book_table(frame, "A")) == repr(book_table(frame.copy(), "A"))


def test_bad_inputs_are_refused_with_clear_errors():
    frame = errors_frame()
    with pytest.raises(ScalingDataError, match="caption"):
        book_table(frame, "  ")
    with pytest.raises(ScalingDataError, match="does not have"):
        book_table(frame, "x", units={"no such column": "points"})
    with pytest.raises(ScalingDataError, match="pattern"):
        book_table(frame, "x", formats={"Eq. 4": ".2f"})
    with pytest.raises(ScalingDataError, match="DataFrame"):
        book_table(frame["Eq. 4"], "x")
    three_levels = frame.set_axis(pd.MultiIndex.from_tuples([("a", "b", c) for c in LAWS]), axis=1)
    with pytest.raises(ScalingDataError, match="two levels"):
        book_table(three_levels, "x")


def test_benchmark_labels_rename_known_benchmarks_only():
    frame = pd.DataFrame({"arc_easy": [1.0], "other": [2.0]}, index=pd.Index(["humaneval-py"]))
    assert benchmark_labels(frame).index.tolist() == ["HumanEval"]
    assert benchmark_labels(frame, axis="columns").columns.tolist() == ["ARC-Easy", "other"]
    with pytest.raises(ScalingDataError):
        benchmark_labels(frame, axis="rows")


def test_glue_rounded_glues_the_rounded_value(monkeypatch):
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.update({name: (value, display)}))
    assert glue_rounded("error", 3.14159, 2) is None
    glue_rounded("zero", -0.0001, 2)
    assert str(glued["zero"][0]) == "0.0"
    assert glued["error"] == (3.14, False)
    with pytest.raises(ScalingDataError, match="non-finite"):
        glue_rounded("bad", float("nan"), 2)


def test_glue_figure_glues_and_closes_the_figure(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import myst_nb

    from scalelib.plots.glue import glue_figure

    glued = {}
    monkeypatch.setattr(
        myst_nb, "glue", lambda name, value, display: glued.update({name: display})
    )
    figure = plt.figure()
    assert glue_figure("fig-test", figure) is None
    assert glued == {"fig-test": False}
    assert figure.number not in plt.get_fignums()
    with pytest.raises(TypeError):
        glue_figure("fig-bad", "not a figure")


def test_plus_minus_joins_estimates_and_errors():
    values = pd.Series([0.35512, np.nan], index=["a", "b"], name="alpha")
    errors = pd.Series([0.02213, 0.1], index=["a", "b"])
    joined = plus_minus(values, errors)
    assert joined.tolist() == ["0.355 ± 0.0221", MISSING] and joined.name == "alpha"
    assert plus_minus(values, errors, "{:.2f}").iloc[0] == "0.36 ± 0.02"
    with pytest.raises(ScalingDataError, match="same index"):
        plus_minus(values, errors.set_axis(["x", "y"]))
