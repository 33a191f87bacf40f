"""Issue 14, point by point: your own runs, grouped, skipped with reasons, never pooled."""

import contextlib
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import direct_law_benchmarks

from scalelib.data import released as data
from scalelib.evaluation.backtest import backtest
from scalelib.data.benchmark_info import ALIASES, BENCHMARKS, CHANCE_LEVELS, chance_level_table, known_chance
from scalelib.cli import main, read_runs
from scalelib.evaluation.intervals import law_interval_forecaster
from scalelib.data.normalise import ScalingDataError
from scalelib.laws.ratio_law import per_ratio_forecaster
from scalelib.runs.your_runs import (
    aggregate_mean,
    fit_away_from_chance,
    forecast_laws,
    forecast_runs,
    line_forecaster,
    near_chance,
)

ROOT = Path(__file__).resolve().parent.parent
MULTI = ROOT / "data" / "example_runs_multi.csv"


def runs(benchmarks=("task_a", "task_b"), n_runs: int = 8, **columns: object) -> pd.DataFrame:
    """Synthetic runs as the command line reads them (:func:`direct_law_benchmarks`, an accuracy column)."""
    frame = direct_law_benchmarks(np.logspace(18, 21, n_runs), benchmarks).rename(columns={"value": "accuracy"})
    return frame.assign(**columns)


def cli(frame: pd.DataFrame, tmp_path: Path, *arguments: str) -> tuple[int, str, str]:
    path = tmp_path / "runs.csv"
    frame.to_csv(path, index=False)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(path), *arguments])
    return code, out.getvalue(), err.getvalue()


# 1. ---------------------------------------------------------------- group, never pool


def test_1_mixtures_and_ratios_are_fitted_separately(tmp_path):
    low = runs(("task",), mixture="a", tpr=20)
    high = runs(("task",), mixture="b", tpr=20).assign(accuracy=lambda f: 0.25 + 0.5 * (f["accuracy"] - 0.25))
    other_ratio = runs(("task",), mixture="a", tpr=80).assign(accuracy=lambda f: f["accuracy"] * 0.98)
    frame = pd.concat([low, high, other_ratio], ignore_index=True).assign(run=lambda f: f["run"] + f["mixture"]
                                                                          + f["tpr"].astype(str))
    result = forecast_runs(frame.rename(columns={"accuracy": "value"}), target_flops=[1e22], progress=False)
    table = result.forecasts
    assert len(table) == 3 and set(zip(table["mixture"], table["tpr"])) == {("a", 20), ("b", 20), ("a", 80)}
    assert (result.laws["n_runs"] == 8).all()  # never 24 runs in one fit
    assert result.laws["law"].str.startswith("direct").all()
    output = tmp_path / "f.csv"
    assert cli(frame, tmp_path, "--target-flops", "1e22", "--output", str(output))[0] == 0
    assert {"mixture", "tpr", "law"} <= set(pd.read_csv(output).columns)


def test_1_group_option_splits_on_a_named_column():
    frame = pd.concat([runs(("task",), lab="x"), runs(("task",), lab="y")], ignore_index=True)
    frame["run"] = frame["run"] + frame["lab"]
    result = forecast_runs(frame, group_by=["lab"], target_flops=[1e22], progress=False)
    assert sorted(result.forecasts["lab"]) == ["x", "y"]


# 2. ---------------------------------------------------------------- skip, don't stop


def test_2_one_unfittable_benchmark_does_not_stop_the_others(tmp_path):
    frame = runs(("task_a", "task_b", "few"))
    frame = frame[(frame["benchmark"] != "few") | (frame["run"].isin(["run0", "run7"]))]
    result = forecast_runs(frame, target_flops=[1e22], progress=False)
    table = result.forecasts.set_index("benchmark")
    assert table.loc[["task_a", "task_b"], "status"].eq("ok").all()
    assert table.loc["few", "status"] == "refused"
    assert "2 of 2 runs are clearly above chance, but the direct law needs at least 3" in table.loc["few", "reason"]
    code, out, _ = cli(frame, tmp_path, "--cut", "3e20")
    assert code == 0 and "task_a" in out and "needs at least 3" in out


def test_2_exit_code_1_when_nothing_can_be_forecast(tmp_path):
    code, _, err = cli(runs(("task",), n_runs=2), tmp_path)
    assert code == 1 and "nothing could be forecast" in err


def test_2_backtest_reason_is_plain_words_not_an_empty_chance_list():
    frame = runs(("task",))
    frame.loc[frame["flops"] <= 1e19, "accuracy"] = 0.25  # every run below the cut at chance
    result = forecast_runs(frame, cut=1e19 * 1.01, target_flops=[1e22], progress=False)
    reason = result.backtest["reason"].iloc[0]
    assert "clearly above chance" in reason and "got []" not in reason


# 3. ---------------------------------------------------------------- filters before validation


def test_3_benchmark_filter_applies_before_validation(tmp_path):
    frame = pd.concat([runs(("hellaswag",)).drop(columns="chance"),
                       runs(("mystery",)).drop(columns="chance").assign(accuracy=65.0)], ignore_index=True)
    code, out, err = cli(frame, tmp_path, "--benchmark", "hellaswag")
    assert code == 0, err
    assert "mystery" not in out


def test_3_where_filter_applies_before_validation(tmp_path):
    frame = pd.concat([runs(("task",), mixture="a"), runs(("task",), mixture="b").assign(accuracy="n/a")])
    code, out, err = cli(frame.assign(run=lambda f: f["run"] + f["mixture"]), tmp_path, "--where", "mixture=a")
    assert code == 0, err


# 4. ---------------------------------------------------------------- chance table


@pytest.mark.parametrize(("name", "chance"), [
    ("boolq", 0.5), ("copa", 0.5), ("openbookqa", 0.25), ("commonsense_qa", 0.2), ("siqa", 1 / 3),
    ("winograd", 0.5), ("logiqa", 0.25), ("mathqa", 0.2), ("OBQA", 0.25), ("social_iqa", 1 / 3),
    ("lambada", 0.0), ("arc-easy", 0.25),
])
def test_4_common_tasks_have_documented_chance_levels(name, chance):
    assert known_chance(name) == pytest.approx(chance)


def test_4_table_has_sources_and_every_alias_resolves():
    table = chance_level_table()
    assert (table["source"] != "").all() and set(CHANCE_LEVELS) <= set(table.index)
    assert set(ALIASES.values()) <= set(BENCHMARKS) | set(CHANCE_LEVELS)
    assert np.isnan(known_chance("my_own_task"))


def test_4_a_chance_column_overrides_and_fills_only_missing(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("benchmark,accuracy,flops,chance\nboolq,0.6,1e20,\nmine,0.5,1e20,0.1\nhellaswag,0.5,1e20,0.3\n")
    frame = read_runs(path)
    assert frame["chance"].tolist() == [0.5, 0.1, 0.3]


def test_4_unknown_task_is_refused_with_a_clear_reason():
    result = forecast_runs(runs(("mystery",)).drop(columns="chance"), target_flops=[1e22], progress=False)
    assert "chance level unknown for 'mystery'" in result.forecasts["reason"].iloc[0]


# 5. ---------------------------------------------------------------- every law


@pytest.fixture(scope="module")
def multi() -> pd.DataFrame:
    return read_runs(MULTI, keep_columns=["val_loss"])


def pass_at_k_runs() -> pd.DataFrame:
    """SYNTHETIC pass@k runs on Eq. 5: six runs, four k each (the example file has no k column)."""
    compute = np.logspace(19, 22, 6)
    return pd.DataFrame([
        {"run": f"r{i}", "benchmark": "code", "flops": c, "k": k, "chance": 0.0, "n_items": 500,
         "accuracy": float(np.exp(-np.exp(2.0 - 0.1 * np.log(c / 1e19) - 0.3 * np.log(k))))}
        for i, c in enumerate(compute) for k in (1, 2, 4, 8)
    ])


@pytest.mark.parametrize("law", list(forecast_laws()))
def test_5_each_law_forecasts_from_the_command_line(tmp_path, law):
    """Every law the command line offers (scalelib.runs.your_runs.forecast_laws, read from the registry) runs end to end."""
    output = tmp_path / "f.csv"
    if law == "passk":
        code, out, err = cli(pass_at_k_runs(), tmp_path, "--law", law, "--target-flops", "1e23",
                             "--output", str(output))
    else:
        # BNSL takes about a second per fit: one ratio is enough to show it runs (Eq. 4 needs them all)
        ratios = ["--where", "tpr=20"] if law == "bnsl" else []
        code, out, err = cli(pd.read_csv(MULTI), tmp_path, "--law", law, "--where", "mixture=dclm", *ratios,
                             "--benchmark", "piqa", "--loss-column", "val_loss", "--target-flops", "1e23",
                             "--cut", "1e21", "--resamples", "20", "--output", str(output))
    assert code == 0, err
    assert f"Law: {law} ({forecast_laws()[law]})" in out
    table = pd.read_csv(output)
    assert (table["status"] == "ok").any() and (table["law"] == law).all()
    if law == "ratio":
        assert sorted(table["tpr"]) == [10, 20, 40, 80, 160] and "Compute-optimal tokens per parameter" in out
    if law == "passk":
        assert (table["status"] == "ok").all() and sorted(table["k"]) == [1, 2, 4, 8]


def test_5_passk_takes_the_bootstrap_interval_too():
    """Eq. 5's bootstrap: the law's forecaster refitted on resampled runs (its k rows together), no name checked."""
    result = forecast_runs(pass_at_k_runs(), law="passk", interval="bootstrap", n_resamples=20, progress=False,
                           target_flops=[1e23])
    forecasts = result.forecasts
    assert (forecasts["status"] == "ok").all() and (forecasts["upper"] > forecasts["lower"]).all()


def test_5_ratio_law_on_one_ratio_is_refused_with_a_reason():
    result = forecast_runs(runs(("task",), tpr=20, params=1e8, tokens=2e9), law="ratio", progress=False)
    assert "runs at one tpr only" in result.forecasts["reason"].iloc[0]


# 6. ---------------------------------------------------------------- --help


def test_6_help_describes_the_input_format(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for column in ("benchmark", "accuracy", "params+tokens", "mixture, tpr", "metric", "n_items", "Exit codes"):
        assert column in text
    assert "See the docstring" not in text


# 7. ---------------------------------------------------------------- near chance


def test_7_one_item_above_chance_is_not_fitted():
    frame = pd.DataFrame({"value": [1 / 5153, 20 / 5153, 0.3], "chance": 0.0, "n_items": 5153})
    assert near_chance(frame).tolist() == [True, False, False]
    assert near_chance(frame.drop(columns="n_items")).tolist() == [False, False, False]  # size unknown


# 8. ---------------------------------------------------------------- held-out runs at chance


def test_8_held_out_runs_at_chance_are_scored():
    frame = runs(("task",))
    frame.loc[frame["flops"] > 5e20, "accuracy"] = 0.25  # the big models disappoint
    result = forecast_runs(frame, cut=2e20, target_flops=[1e22], progress=False)
    summary = result.backtest.iloc[0]
    assert summary["n_held_out"] == (frame["flops"] > 2e20).sum()
    assert summary["mean_abs_error"] > 5


# 9. ---------------------------------------------------------------- binomial noise without a size


def test_9_binomial_noise_without_n_items_is_refused_not_nan(tmp_path):
    code, out, err = cli(runs(), tmp_path, "--noise", "binomial", "--interval", "bootstrap")
    assert code == 1 and "needs the benchmark's number of items" in err + out and " nan " not in out.lower()


# 10. --------------------------------------------------------------- metric column


def test_10_metrics_are_never_pooled_and_losses_are_set_aside(tmp_path):
    acc = runs(("task",), metric="acc")
    norm = runs(("task",), metric="acc_norm").assign(accuracy=lambda f: f["accuracy"] * 0.97)
    loss = runs(("task",), metric="cross_entropy_loss").assign(accuracy=3.2)
    frame = pd.concat([acc, norm, loss], ignore_index=True)
    path = tmp_path / "runs.csv"
    frame.to_csv(path, index=False)
    read = read_runs(path)
    assert sorted(read["metric"].unique()) == ["acc", "acc_norm"] and sum(read.attrs["set_aside"].values()) == 8
    result = forecast_runs(read, target_flops=[1e22], progress=False)
    assert sorted(result.forecasts["metric"]) == ["acc", "acc_norm"]
    assert len(read_runs(path, metric="acc_norm")) == 8


# 11. --------------------------------------------------------------- falling scores


def test_11_falling_scores_are_warned_about():
    frame = runs(("errors",)).assign(accuracy=lambda f: 1.25 - f["accuracy"])
    result = forecast_runs(frame, target_flops=[1e22], progress=False)
    assert any("the score falls as compute grows" in warning for warning in result.warnings)


# 12. --------------------------------------------------------------- API and CLI agree


def test_12_value_column_and_mixture_are_read(tmp_path):
    path = tmp_path / "runs.csv"
    runs(("task",), mixture="dclm").rename(columns={"accuracy": "value"}).to_csv(path, index=False)
    frame = read_runs(path)
    assert "mixture" in frame.columns and frame["value"].between(0, 1).all()
    via_api = forecast_runs(frame, target_flops=[1e22], progress=False).forecasts
    code, _, _ = cli(frame.drop(columns="line"), tmp_path, "--target-flops", "1e22", "--output",
                     str(tmp_path / "f.json"))
    via_cli = pd.DataFrame(json.loads((tmp_path / "f.json").read_text()))
    assert code == 0 and via_cli["predicted"].tolist() == pytest.approx(via_api["predicted"].tolist())


# 13. --------------------------------------------------------------- per-ratio failures caught per task


def test_13_per_ratio_interval_forecaster_failure_is_one_skipped_task():
    good = runs(("good",), tpr=20)
    bad = pd.concat([runs(("bad",), tpr=20), runs(("bad",), tpr=40).assign(flops=lambda f: f["flops"] * 1e4)])
    frame = pd.concat([good, bad], ignore_index=True).rename(columns={"accuracy": "value"})
    frame["run"] = frame["run"] + frame["tpr"].astype(str)
    result = backtest(frame, per_ratio_forecaster(law_interval_forecaster("direct")), compute_cut=1.5e21)
    by_task = result.groupby("benchmark")["status"].agg(set)
    assert by_task["bad"] == {"skipped"} and "No training runs at tpr [40" in result.loc[
        result["benchmark"] == "bad", "reason"].iloc[0]


# 14. --------------------------------------------------------------- intervals too wide


def test_14_wide_intervals_are_remarked_on():
    frame = runs(("task",), n_runs=4)
    frame.loc[1, "accuracy"] = 0.6
    result = forecast_runs(frame, target_flops=[1e26], progress=False)
    assert "says little" in result.forecasts["warning"].iloc[0]


# --------------------------------------------------------------- aggregate and the derived file


def test_aggregate_mean_uses_the_mean_chance_level():
    frame = pd.DataFrame({"run": ["a", "a", "b", "c", "c"], "benchmark": ["x", "y", "x", "x", "y"],
                          "value": [0.6, 0.8, 0.7, 0.5, 0.7], "chance": [0.25, 0.5, 0.25, 0.25, 0.5],
                          "flops": [1e20, 1e20, 2e20, 3e20, 3e20]})
    mean = aggregate_mean(frame, ["x", "y"], [])
    assert mean["run"].tolist() == ["a", "c"] and mean["chance"].tolist() == [0.375, 0.375]
    assert mean["value"].tolist() == pytest.approx([0.7, 0.6])


def test_line_baseline_is_a_forecaster():
    frame = runs(("task",)).rename(columns={"accuracy": "value"})
    result = backtest(frame, line_forecaster(), compute_cut=3e20)
    assert (result["status"] == "ok").all()


def test_derived_example_file_is_copied_from_the_released_runs():
    example = pd.read_csv(MULTI)
    released = data.accuracy_frame(["dclm", "c4"], tpr=None, benchmarks=["lambada_openai", "arc_easy", "hellaswag",
                                                                        "piqa", "mmlu"])
    released = released.assign(benchmark=released["benchmark"].replace({"lambada_openai": "lambada"}))
    merged = example.merge(released, on=["mixture", "run", "benchmark"], validate="one_to_one")
    assert len(merged) == len(example) == len(released)
    np.testing.assert_array_equal(merged["accuracy"], merged["value"])
    np.testing.assert_array_equal(merged["params_x"], merged["params_y"])
    losses = data.load_runs().set_index(["mixture", "run"])["loss_c4"]
    np.testing.assert_array_equal(example["val_loss"], losses.loc[list(zip(example["mixture"], example["run"]))])
    manifest = (ROOT / "data" / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(MULTI.read_bytes()).hexdigest()}  example_runs_multi.csv" in manifest


def test_fit_away_from_chance_leaves_near_chance_runs_out_of_the_fit_and_scores_them_held_out():
    # synthetic runs (generated here): a direct law above chance, and the first runs on the floor
    flops = np.geomspace(1e18, 1e22, 12)
    value = 0.25 + 0.75 * np.exp(-3.0 * (flops / 1e18) ** -0.2)
    value[[0, 1, 10]] = 0.251  # within two binomial standard errors of chance on 1,000 items
    rows = pd.DataFrame({"run": [f"r{i}" for i in range(12)], "benchmark": "b", "flops": flops,
                         "value": value, "chance": 0.25, "n_items": 1000})
    assert near_chance(rows).tolist() == [True, True] + [False] * 8 + [True, False]
    seen = []
    forecaster = law_interval_forecaster("direct")
    result = backtest(
        rows, fit_away_from_chance(lambda training: seen.append(training) or forecaster(training)), compute_cut=1e21
    )
    assert seen[0]["run"].tolist() == [f"r{i}" for i in range(2, 9)]  # the two floor runs left out
    assert result["run"].tolist() == ["r9", "r10", "r11"] and (result["status"] == "ok").all()  # r10 scored
    with pytest.raises(ScalingDataError, match="clearly above chance"):
        fit_away_from_chance(forecaster, "bnsl")(rows[rows["flops"] <= 1e20])


def test_a_failed_backtest_is_warned_about_and_a_good_one_is_not():
    runs = read_runs(Path(__file__).resolve().parent.parent / "data" / "example_runs.csv")
    result = forecast_runs(runs, target_flops=[1e23], cut=1e21, progress=False)
    failed = [w for w in result.warnings if "the backtest failed" in w]
    held_out = int(((runs["benchmark"] == "mmlu") & (runs["flops"] > 1e21)).sum())
    # MMLU takes off above the cut (coverage 0.06); the smooth risers cover all their held-out runs
    assert len(failed) == 1 and failed[0].startswith("mmlu") and f"{held_out} held-out runs" in failed[0]
    assert (result.backtest.set_index("panel")["coverage"] >= 0.5).sum() == len(result.backtest) - 1
