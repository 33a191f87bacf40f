"""Tests of the command line ``python -m scalelib`` (scalelib.cli) and its example file."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelib import cli_run
from scalelib.data import released as data
from scalelib.cli import RunsFileError, main, read_runs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "example_runs.csv"


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scalelib", *arguments], cwd=ROOT, capture_output=True, text=True, check=False,
    )


def write(tmp_path: Path, text: str, name: str = "runs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def synthetic_runs(n_runs: int = 8, *, benchmarks=("task_a", "task_b")) -> pd.DataFrame:
    """A synthetic runs table (an Eq. 2 curve per benchmark, chance 0.25, runs scattered by 2% in -log Q)."""
    compute = np.logspace(18, 21, n_runs)
    scatter = np.exp(np.random.default_rng(0).normal(0.0, 0.02, (len(benchmarks), n_runs)))
    rows = []
    for offset, benchmark in enumerate(benchmarks):
        accuracy = 0.25 + 0.75 * np.exp(-(700.0 + 100 * offset) * compute**-0.15 * scatter[offset])
        rows += [{"run": f"run{i}", "benchmark": benchmark, "flops": c, "accuracy": a, "chance": 0.25}
                 for i, (c, a) in enumerate(zip(compute, accuracy))]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the example file


def test_example_file_is_cut_verbatim_from_the_released_runs():
    example = pd.read_csv(EXAMPLE)
    released = data.accuracy_frame("dclm", tpr=20, benchmarks=example["benchmark"].unique()).set_index(
        ["run", "benchmark"]
    )
    matched = released.loc[list(zip(example["run"], example["benchmark"]))]
    np.testing.assert_array_equal(example["accuracy"].to_numpy(), matched["value"].to_numpy())
    np.testing.assert_array_equal(example["params"].to_numpy(), matched["params"].to_numpy())
    np.testing.assert_array_equal(example["tokens"].to_numpy(), matched["tokens"].to_numpy())
    np.testing.assert_array_equal(example["chance"].to_numpy(), matched["chance"].to_numpy())
    assert len(example) == len(released)  # every tpr-20 run of these benchmarks


def test_cli_on_the_example_file(tmp_path):
    figure = tmp_path / "forecast.png"
    result = run_cli(str(EXAMPLE), "--target-flops", "1e23", "--cut", "1e21", "--figure", str(figure))
    assert result.returncode == 0, result.stderr
    assert "Backtest: fitted on the runs at or below the cut" in result.stdout
    assert "Forecast at the target compute" in result.stdout
    forecast_lines = [line for line in result.stdout.splitlines() if "1e+23" in line]
    assert len(forecast_lines) == 5  # one per benchmark
    assert "Not fitted, at or near chance" in result.stdout  # MMLU's runs at chance
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("benchmark,accuracy\nhellaswag,0.5\n", "No compute given"),
        ("benchmark,accuracy,flops\nhellaswag,1.5,1e20\nhellaswag,0.5,1e21\n", "Accuracy must be a fraction in"),
    ],
)
def test_cli_on_malformed_files_prints_one_line_and_exits_2(tmp_path, text, message):
    result = run_cli(str(write(tmp_path, text)))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- reading


def test_read_runs_derives_compute_and_defaults(tmp_path):
    tokens = write(tmp_path, "benchmark,accuracy,params,tokens\nhellaswag,0.5,1e8,2e9\nhellaswag,0.6,2e8,4e9\n",
                   "t.csv")
    frame = read_runs(tokens)
    assert frame["flops"].tolist() == [6 * 1e8 * 2e9, 6 * 2e8 * 4e9]
    assert frame["chance"].tolist() == [0.25, 0.25] and frame["n_items"].tolist() == [10042, 10042]
    assert frame["run"].tolist() == ["line 2", "line 3"]
    ratio = write(tmp_path, " benchmark , accuracy , params , tpr\nhellaswag, 0.5, 1e8, 20\n", "r.csv")
    frame = read_runs(ratio)
    assert frame["tokens"].tolist() == [2e9] and frame["flops"].tolist() == [6 * 1e8 * 2e9]
    flops = write(tmp_path, "benchmark,accuracy,flops,params,tokens,chance\nt,0.5,1e20,1,1,0\n", "f.csv")
    frame = read_runs(flops)
    assert frame["flops"].tolist() == [1e20] and frame.attrs["compute_source"] == "flops column"


def test_main_prints_the_forecast_for_synthetic_runs(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    synthetic_runs().to_csv(path, index=False)
    assert main([str(path), "--target-flops", "1e22", "--level", "0.8"]) == 0
    output = capsys.readouterr().out
    assert "80% prediction intervals" in output and "task_a" in output and "task_b" in output


BAD_FILES = [
    ("", "is empty"),
    ("benchmark,accuracy,flops\n", "header but no data rows"),
    ("benchmark,flops\nt,1e20\n", r"Missing column\(s\) \['accuracy'\]"),
    ("accuracy,flops\n0.5,1e20\n", r"Missing column\(s\) \['benchmark'\]"),
    ("benchmark,accuracy,accuracy,flops\nt,0.5,0.5,1e20\n", "appear more than once"),
    ("benchmark,accuracy,flops\nt,0.5,1e20,7\n", "the header has 3 fields, but line 2 has 4"),
    ("benchmark,accuracy,flops\nt,0.5\n", "the header has 3 fields, but line 2 has 2"),
    ("benchmark,accuracy,flops,chance\nt,abc,1e20,0\n",
     "Column 'accuracy' must hold finite numbers; got line 2 \\('abc'\\)"),
    ("benchmark,accuracy,flops,chance\nt,0.5,lots,0\n", "Column 'flops' must hold finite numbers"),
    ("benchmark,accuracy,flops,chance\nt,0.5,inf,0\n", "Column 'flops' must hold finite numbers"),
    ("benchmark,accuracy,flops,chance\nt,,1e20,0\n", "Column 'accuracy' has empty cells at line 2"),
    ("benchmark,accuracy,flops,chance\n,0.5,1e20,0\n", "Column 'benchmark' has empty cells"),
    ("benchmark,accuracy,flops,chance\nt,65.2,1e20,0\n", r"fraction in \[0, 1\] \(not a percentage\)"),
    ("benchmark,accuracy,flops,chance\nt,-0.1,1e20,0\n", r"fraction in \[0, 1\]"),
    ("benchmark,accuracy,flops,chance\nt,1.0,1e20,0\n", "Accuracy 1 cannot be fitted"),
    ("benchmark,accuracy,flops,chance\nt,0.5,-1e20,0\n", "Column 'flops' must be positive"),
    ("benchmark,accuracy,params,tokens,chance\nt,0.5,0,1e9,0\n", "Column 'params' must be positive"),
    ("benchmark,accuracy,params,tpr,chance\nt,0.5,1e8,-20,0\n", "Column 'tpr' must be positive"),
    ("benchmark,accuracy,flops,chance\nt,0.5,1e20,1.0\n", r"Chance must lie in \[0, 1\)"),
    ("benchmark,accuracy,flops,chance\nt,0.5,1e20,0\nt,0.6,1e21,0.25\n", "several chance levels"),
    ("benchmark,accuracy,flops,chance,n_items\nt,0.5,1e20,0,10.5\n", "'n_items' must hold whole numbers"),
    ("benchmark,accuracy,flops,chance,run\nt,0.5,1e20,0,a\nt,0.6,1e21,0,a\n", "appear twice for the same benchmark"),
    ("benchmark,accuracy,flops,chance,run\nt,0.5,1e20,0,\n", "Column 'run' has empty cells"),
]


@pytest.mark.parametrize(("text", "match"), BAD_FILES)
def test_each_malformed_file_has_its_own_error(tmp_path, text, match):
    with pytest.raises(RunsFileError, match=match):
        read_runs(write(tmp_path, text))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(RunsFileError, match="no such file"):
        read_runs(tmp_path / "absent.csv")


def test_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(RunsFileError, match="is a directory"):
        read_runs(tmp_path)


def test_a_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_bytes(b"benchmark,accuracy\n\xff\xfe\x00\x81,0.5\n")
    with pytest.raises(RunsFileError, match="not a UTF-8 text file"):
        read_runs(path)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        (["--law", "chinchilla"], "invalid choice: 'chinchilla'"),
        (["--level", "1.5"], "expected a level between 0 and 1"),
        (["--target-flops", "0"], "expected a positive number"),
        (["--cut", "abc"], "expected a number"),
        (["--cut", "1e30"], "holds out no run"),
        (["--law", "two-stage-linear"], "needs --loss-column"),
        (["--output", "forecasts.txt"], "give a .csv or .json file name"),
        (["--resamples", "19"], "expected a whole number >= 20, got '19'"),
        (["--seed", "-3"], "expected a whole number >= 0"),
        (["--resamples", "many"], "expected a whole number, got 'many'"),
        (["--benchmark", "nonexistent"], "not in the file"),
        (["--interval", "analytic", "--law", "saturating"], "analytic interval exists for the direct and passk laws only"),
        (["--figure", "/nonexistent-folder/forecast.png"], "folder /nonexistent-folder does not exist"),
        (["--figure", "forecast.unknown-format"], "Cannot save the figure"),
        (["--output", "/nonexistent-folder/forecasts.csv"], "Cannot save the forecasts .* does not exist"),
    ],
)
def test_bad_arguments_print_one_line_and_return_2(tmp_path, capsys, arguments, match):
    path = tmp_path / "runs.csv"
    synthetic_runs().to_csv(path, index=False)
    assert main([str(path), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
    assert re.search(match, error), error


@pytest.mark.parametrize("suffix", ["pdf", "svg"])
def test_figures_are_byte_identical_across_runs(tmp_path, capsys, suffix):
    """No creation date, fixed SVG ids: the same runs give the same file."""
    path = tmp_path / "runs.csv"
    synthetic_runs().to_csv(path, index=False)
    figures = []
    for attempt in (1, 2):
        figure = tmp_path / f"forecast{attempt}.{suffix}"
        assert main([str(path), "--figure", str(figure)]) == 0
        figures.append(figure.read_bytes())
    assert figures[0] == figures[1]
    assert b"CreationDate" not in figures[0] and b"<dc:date>" not in figures[0]


def test_output_is_the_forecast_table_with_positions(tmp_path, capsys):
    path, output = tmp_path / "runs.csv", tmp_path / "forecasts.csv"
    synthetic_runs().to_csv(path, index=False)
    assert main([str(path), "--target-flops", "1e17", "1e20", "1e22", "--output", str(output)]) == 0
    table = pd.read_csv(output, keep_default_na=False)
    assert table.columns.tolist() == ["benchmark", "law", "flops", "predicted", "lower", "upper", "width_points",
                                      "n_runs", "position", "efolds_outside", "status", "reason", "warning"]
    assert table["position"].tolist() == ["below", "inside", "beyond"] * 2
    np.testing.assert_allclose(table["efolds_outside"], [np.log(10.0), 0.0, np.log(10.0)] * 2)
    assert [bool(warning) for warning in table["warning"]] == [True, False, False] * 2
    assert capsys.readouterr().err.count("warning: ") == 2  # the target below, for each benchmark


def test_progress_bars_only_on_a_terminal(monkeypatch, tmp_path):
    """A slow run (a loaded CI machine) must not put a progress bar into a piped stderr."""
    seen = []
    original = cli_run.forecast_runs
    monkeypatch.setattr(cli_run, "forecast_runs", lambda *args, **kwargs: seen.append(kwargs["progress"])
                        or original(*args, **kwargs))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert main([str(EXAMPLE), "--target-flops", "1e23"]) == 0
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main([str(EXAMPLE), "--target-flops", "1e23"]) == 0
    assert seen == [False, True]
