"""Issue 13's command-line contract: ``--law auto`` and ``--backtest-output PATH.csv``."""

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelib.runs.auto_runs import BACKTEST_COLUMNS
from scalelib.cli import main, read_runs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "example_runs.csv"


def run_cli(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in arguments])
    return code, out.getvalue(), err.getvalue()


def read_backtest(path: Path) -> pd.DataFrame:
    """The CSV as written; an empty reason cell read as ''."""
    return pd.read_csv(path, dtype={"reason": object}).fillna({"reason": ""})


def check_contract(table: pd.DataFrame, cut: float) -> None:
    """The columns, one row per held-out (run, benchmark), accuracies in [0, 1], empty numbers iff unpredictable."""
    assert tuple(table.columns) == BACKTEST_COLUMNS
    runs = read_runs(EXAMPLE)
    held_out = runs[runs["flops"] > cut]
    assert len(table) == len(held_out)
    assert set(zip(table["benchmark"], table["run"])) == set(zip(held_out["benchmark"], held_out["run"]))
    assert table["verdict"].isin(["forecast", "unpredictable"]).all()
    numbers = table[["observed", "predicted", "lower", "upper"]].to_numpy(float)
    numbers = numbers[~np.isnan(numbers)]
    assert ((numbers >= 0) & (numbers <= 1)).all()
    unpredictable = table["verdict"] == "unpredictable"
    assert table.loc[unpredictable, ["predicted", "lower", "upper"]].isna().all().all()
    assert table.loc[~unpredictable, ["predicted", "lower", "upper"]].notna().all().all()
    assert (table.loc[unpredictable, "reason"].str.len() > 0).all()
    forecast = table[~unpredictable]
    assert (forecast["lower"] <= forecast["predicted"]).all() and (forecast["predicted"] <= forecast["upper"]).all()


def test_auto_backtest_output_contract(tmp_path):
    path = tmp_path / "backtest.csv"
    code, out, _ = run_cli(EXAMPLE, "--law", "auto", "--cut", "1e21", "--backtest-output", path)
    assert code == 0
    table = read_backtest(path)
    check_contract(table, 1e21)
    assert "unpredictable" in set(table["verdict"])  # MMLU's take-off lies above the cut
    assert "forecast" in set(table["verdict"])
    assert "decades beyond the largest fitted run" in out


def test_backtest_output_of_a_single_law(tmp_path):
    path = tmp_path / "backtest.csv"
    code, _, _ = run_cli(EXAMPLE, "--law", "direct", "--cut", "1e21", "--backtest-output", path)
    assert code == 0
    table = read_backtest(path)
    check_contract(table, 1e21)
    assert np.isfinite(table["predicted"]).all()


@pytest.mark.parametrize("arguments", [
    ("--backtest-output", "backtest.json"),
    ("--law", "auto", "--figure", "figure.png"),
    ("--backtest-output", "no/such/folder/backtest.csv"),
])
def test_unusable_options_exit_2(tmp_path, arguments):
    arguments = [str(tmp_path / a) if a.endswith((".json", ".png", ".csv")) else a for a in arguments]
    code, out, err = run_cli(EXAMPLE, "--cut", "1e21", *arguments)
    assert code == 2
    assert err.startswith("error:") and out == ""
