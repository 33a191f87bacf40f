"""Bad and awkward input, case by case: every case ends in a clear error, a warning or a sensible answer.

The cases are those of the audit in issue 18 ("no silent wrong answer"), on synthetic runs
built here and on copies of the released files. Each case states the outcome it must
have:

* ``error``: a ``ValueError`` (``ScalingDataError``, ``RunsFileError``, ...) from the
  library, or exit code 2 (unusable input) or 1 (no group could be forecast) with a
  one-line ``error:`` from the command line, whose
  message matches the case's pattern (it names the input);
* ``warning``: the command line exits 0 and warns on stderr (pattern matched);
* ``sensible``: a value (or exit 0 without warning) that passes the case's check.

Anything else (another exception, a value failing its check, a stray Python warning such
as numpy's overflow ``RuntimeWarning``, stderr output besides the one error or the
warnings) is ``wrong``. Run this file as a script to print the count of cases by outcome::

    .venv/bin/python tests/test_bad_inputs.py
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import shutil
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import direct_law_benchmarks, scattered_accuracy

from scalelib.data import released as data
from scalelib.evaluation.backtest import backtest
from scalelib.laws.bnsl import fit_bnsl
from scalelib.cli import main
from scalelib.laws.direct_law import direct_law_forecaster, fit_direct_law
from scalelib.evaluation.intervals import direct_law_interval, forecast_interval, law_interval_forecaster
from scalelib.laws.pass_at_k import fit_pass_at_k_law, mean_pass_at_k, pass_at_k
from scalelib.laws.ratio_law import fit_ratio_law
from scalelib.laws.saturating_law import fit_saturating_law, saturating_forecaster

COMPUTE = np.logspace(18, 21, 8)
CHANCE = 0.25


ACCURACY = scattered_accuracy(700.0 * COMPUTE**-0.15, CHANCE, scatter=0.02)
"""Synthetic Eq. 2 accuracies at COMPUTE: the first benchmark of :func:`direct_law_benchmarks`."""


def runs_frame(compute=COMPUTE, *, benchmarks=("task_a", "task_b"), run=True, **columns) -> pd.DataFrame:
    """Synthetic runs as the command line reads them: run (unless not ``run``), benchmark, flops, accuracy, chance."""
    frame = direct_law_benchmarks(compute, benchmarks).rename(columns={"value": "accuracy"}).assign(**columns)
    return frame if run else frame.drop(columns="run")


def backtest_frame(compute=COMPUTE, **columns) -> pd.DataFrame:
    """One synthetic benchmark as the library's tidy frame (value, not accuracy)."""
    return direct_law_benchmarks(compute, ("task",)).assign(**columns)


# --------------------------------------------------------------------------- running a case


@dataclass(frozen=True)
class CliResult:
    """What ``python -m scalelib`` did: exit code, stdout, stderr and the ``--output`` table (if asked)."""

    code: int
    out: str
    err: str
    output: pd.DataFrame | None


def cli(frame: pd.DataFrame | str, *arguments: str) -> CliResult:
    """Run the command line in-process on ``frame`` (or CSV text); ``{out}`` in the arguments is a CSV path."""
    with tempfile.TemporaryDirectory() as folder:
        path, output = Path(folder) / "runs.csv", Path(folder) / "forecasts.csv"
        path.write_text(frame if isinstance(frame, str) else frame.to_csv(index=False))
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main([str(path), *[argument.replace("{out}", str(output)) for argument in arguments]])
        table = pd.read_csv(output, keep_default_na=False) if output.exists() else None
    return CliResult(code, stdout.getvalue(), stderr.getvalue(), table)


def manifest(text: Callable[[dict[str, str]], str]) -> Callable[[], None]:
    """Verify a copy of the released files against the manifest ``text(digests)``."""

    def verify() -> None:
        with tempfile.TemporaryDirectory() as folder:
            digests = {}
            for name in data.MIXTURES.values():
                shutil.copy(data.default_data_dir() / name, Path(folder) / name)
                digests[name] = hashlib.sha256((Path(folder) / name).read_bytes()).hexdigest()
            (Path(folder) / data.MANIFEST).write_bytes(text(digests).encode())
            return data.verify_checksums(Path(folder))

    return verify


C4, DCLM = data.MIXTURES["c4"], data.MIXTURES["dclm"]


@dataclass(frozen=True)
class Case:
    """A bad or awkward input, the outcome it must have and how the outcome is recognised."""

    name: str
    call: Callable[[], object]
    expect: str  # "error", "warning" or "sensible"
    pattern: str = ""  # regex the message must match (error, warning)
    check: Callable[[object], bool] = lambda value: True  # a sensible answer (or a warned run) must pass it


def passes(case: Case, value: object) -> bool:
    """Whether ``value`` passes the case's check (a check that raises fails)."""
    try:
        return bool(case.check(value))
    except Exception:
        return False


def observe(case: Case) -> tuple[str, str]:
    """Run a case: its outcome (error, warning, sensible or wrong) and what was seen."""
    with warnings.catch_warnings(record=True) as stray:
        warnings.simplefilter("always")
        try:
            value = case.call()
        except ValueError as error:
            value = error
        except Exception as error:  # an obscure exception from deep inside numpy, scipy, pandas ...
            return "wrong", f"{type(error).__name__}: {error}"
    if stray:
        return "wrong", "; ".join(f"{warning.category.__name__}: {warning.message}" for warning in stray)
    if isinstance(value, ValueError):
        return ("error" if re.search(case.pattern, str(value)) else "wrong"), str(value)
    if isinstance(value, CliResult):
        lines = value.err.splitlines()
        if value.code in (1, 2):  # 1: no group could be forecast, every reason on one error line
            one_line = len(lines) == 1 and lines[0].startswith("error: ")
            return ("error" if one_line and re.search(case.pattern, value.err) else "wrong"), value.err
        if value.code == 0 and lines and all(line.startswith("warning: ") for line in lines):
            matched = re.search(case.pattern, value.err) and passes(case, value)
            return ("warning" if matched else "wrong"), value.err
        return ("sensible" if value.code == 0 and not lines and passes(case, value) else "wrong"), value.out + value.err
    return ("sensible" if passes(case, value) else "wrong"), repr(value)


def widths(result: CliResult) -> pd.Series:
    return result.output["upper"] - result.output["lower"]


FLAT = runs_frame(benchmarks=("hellaswag",)).assign(accuracy=0.5, chance=CHANCE)
"""A perfectly flat benchmark: every run at accuracy 0.5."""

NEAR_FLOAT_MAX = runs_frame().assign(flops=lambda frame: frame["flops"] * 1e287)
"""Runs at 1e305 to 1e308 FLOPs: ten times the largest overflows."""

CASES = [
    # ---- silent wrong answers of the audit: now a warning or a clear error
    Case("cli: target below the fitted runs", lambda: cli(runs_frame(), "--target-flops", "1e15", "--output", "{out}"),
         "warning", r"target 1e\+15 FLOPs is 6\.9 e-folds below the smallest fitted run",
         lambda result: (result.output["position"] == "below").all() and (result.output["warning"] != "").all()),
    Case("cli: target far beyond the calibrated reach", lambda: cli(runs_frame(), "--target-flops", "1e30"),
         "warning", r"farther than the drift calibration reaches"),
    Case("cli: target inside and just beyond the runs, in the machine-readable output",
         lambda: cli(runs_frame(), "--target-flops", "1e20", "1e22", "--output", "{out}"), "sensible",
         check=lambda result: result.output["position"].tolist() == ["inside", "beyond"] * 2
         and (result.output["warning"] == "").all()),
    Case("cli: --noise binomial without n_items", lambda: cli(runs_frame(), "--noise", "binomial", "--interval",
                                                              "bootstrap"),
         "error", r"task_a: forecast: --noise binomial needs the benchmark's number of items"),
    Case("cli: --noise binomial with the analytic interval", lambda: cli(runs_frame(n_items=500), "--noise", "binomial"),
         "error", r"--noise binomial needs the bootstrap interval"),
    Case("cli: --resamples 1", lambda: cli(runs_frame(), "--interval", "bootstrap", "--resamples", "1"),
         "error", r"expected a whole number >= 20, got '1'"),
    Case("cli: --cut below every run", lambda: cli(runs_frame(), "--cut", "1e15"),
         "error", r"--cut 1e\+15 leaves no run to fit"),
    Case("cli: --cut above every run", lambda: cli(runs_frame(), "--cut", "1e25"),
         "error", r"--cut 1e\+25 holds out no run"),
    Case("cli: exact duplicate rows without a run column",
         lambda: cli(pd.concat([runs_frame(run=False)] * 2, ignore_index=True)),
         "error", r"line 18 repeats line 2, .* no 'run' column"),
    Case("cli: flat benchmark of known item count", lambda: cli(FLAT, "--output", "{out}"),
         "sensible", check=lambda result: (widths(result) > 0.01).all()),
    Case("cli: flat benchmark of unknown item count", lambda: cli(FLAT.assign(benchmark="task")),
         "error", r"lie exactly on the law .* give the benchmark's number of items"),
    Case("cli: default target overflows", lambda: cli(NEAR_FLOAT_MAX),
         "error", r"The default target, 10 x the largest run \(1e\+308 FLOPs\), overflows the largest float"),
    Case("cli: params x tokens overflows", lambda: cli(
        "benchmark,accuracy,params,tokens,chance\nt,0.5,1e200,1e200,0\nt,0.6,1e10,1e10,0\n"),
         "error", r"overflows the largest float; got line 2 \(inf\)"),
    Case("cli: compute near the float maximum, target given",
         lambda: cli(NEAR_FLOAT_MAX, "--target-flops", "1.5e308", "--output", "{out}"),
         "sensible", check=lambda result: np.isfinite(result.output[["predicted", "lower", "upper"]]).all().all()),
    Case("cli: every run at one compute", lambda: cli(runs_frame(np.full(8, 1e20))),
         "error", r"task_a: forecast: Every run has the same compute"),
    # ---- the library refuses what the command line refuses
    Case("fit_direct_law: every run at one compute", lambda: fit_direct_law(np.full(8, 1e20), ACCURACY,
                                                                            chance=CHANCE),
         "error", r"Every run has the same compute \(1e\+20 FLOPs\)"),
    Case("fit_saturating_law: every run at one compute",
         lambda: fit_saturating_law(np.full(8, 1e20), ACCURACY, chance=CHANCE),
         "error", r"Every run has the same compute"),
    Case("fit_bnsl: every run at one compute", lambda: fit_bnsl(np.full(8, 1e20), ACCURACY, chance=CHANCE),
         "error", r"Every run has the same compute"),
    *[Case(f"{fit.__name__}: infinite compute", lambda fit=fit: fit(np.r_[COMPUTE[:-1], np.inf], ACCURACY,
                                                                    chance=CHANCE, labels=[f"r{i}" for i in range(8)]),
           "error", r"Infinite compute at run 'r7'") for fit in (fit_direct_law, fit_saturating_law, fit_bnsl)],
    Case("fit_pass_at_k_law: infinite k", lambda: fit_pass_at_k_law(
        np.repeat(COMPUTE[:4], 2), [1, np.inf] * 4, np.full(8, 0.3)), "error", r"Every k must be a finite number >= 1"),
    Case("fit_ratio_law: infinite N", lambda: fit_ratio_law(
        np.r_[np.full(7, 1e8), np.inf], np.logspace(9, 11, 8), ACCURACY, chance=CHANCE), "error",
         r"Infinite compute at index 7"),
    Case("fit_ratio_law: infinite D", lambda: fit_ratio_law(
        np.logspace(8, 9, 8), np.r_[np.logspace(9, 11, 7), np.inf], ACCURACY, chance=CHANCE), "error",
         r"Infinite compute at index 7"),
    *[Case(f"fit_direct_law: chance {chance!r}", lambda chance=chance: fit_direct_law(
        COMPUTE, ACCURACY, chance=chance), "error", r"Chance level must be a real number in \[0, 1\), got")
      for chance in ("0.25", None, np.array([0.25, 0.25]), True)],
    Case("fit_direct_law: compute as text", lambda: fit_direct_law(
        [*COMPUTE[:-1].astype(str), "lots"], ACCURACY, chance=CHANCE),
         "error", r"compute must hold numbers; got '1e\+18' \(str\) at index 0"),
    Case("backtest: repeated index (pd.concat without ignore_index)",
         lambda: backtest(pd.concat([backtest_frame(), backtest_frame(benchmark="other")]), direct_law_forecaster(),
                          compute_cut=1e20),
         "error", r"index repeats label\(s\) 0, 1, 2, 3, 4 and 3 more .*reset_index\(drop=True\)"),
    Case("backtest: flops column of text", lambda: backtest(backtest_frame().astype({"flops": str}),
                                                            direct_law_forecaster(), compute_cut=1e20),
         "error", r"Column 'flops' must hold numbers, but has dtype \w+ \(e\.g\. '1e\+18' in row 0\)"),
    Case("backtest: infinite compute", lambda: backtest(
        backtest_frame(np.r_[COMPUTE[:-1], np.inf]), direct_law_forecaster(), compute_cut=1e20),
         "error", r"Infinite flops at run 'run7'"),
    Case("ratio-law bootstrap forecast at compute only", lambda: forecast_interval(
        law_interval_forecaster("ratio", interval="bootstrap", n_resamples=20, calibrate=False, progress=False),
        backtest_frame().assign(params=np.logspace(8, 9, 8), tokens=lambda f: f["flops"] / (6 * f["params"])),
        [1e22]), "error", r"the rows lack column\(s\) \['params', 'tokens'\]"),
    Case("pass_at_k(10**10, 1, 1)", lambda: pass_at_k(10**10, 1, 1),
         "error", r"n_samples holds 10000000000, more than the 1e\+06 samples per problem"),
    Case("pass_at_k(10**19, 1, 1): beyond int64", lambda: pass_at_k(10**19, 1, 1),
         "error", r"n_samples holds 10000000000000000000, more than the 1e\+06 samples"),
    Case("mean_pass_at_k([], [], 1)", lambda: mean_pass_at_k([], [], 1), "error", r"needs at least one problem"),
    *[Case(f"DirectLawFit.predict at {compute:g}", lambda compute=compute: fit_direct_law(
        COMPUTE, ACCURACY, chance=CHANCE).predict([1e22, compute]), "error",
           r"Non-positive compute at index 1; compute must be > 0 FLOPs") for compute in (-1e20, 0.0)],
    *[Case(f"forecast_interval at {compute:g}", lambda compute=compute: forecast_interval(
        law_interval_forecaster(), backtest_frame(), [compute]), "error", r"Non-positive flops at index 0")
      for compute in (-1e20, 0.0)],
    Case("saturating forecaster at negative compute", lambda: saturating_forecaster()(backtest_frame())(
        pd.DataFrame({"flops": [-1e20]})), "error", r"Non-positive flops at index 0"),
    Case("PassAtKLawFit.predict at k = 0", lambda: fit_pass_at_k_law(
        np.repeat(COMPUTE[:4], 2), [1, 8] * 4, np.tile([0.2, 0.5], 4) + np.repeat([0.0, 0.02, 0.05, 0.06], 2)
    ).predict(1e22, 0), "error", r"Every k must be a finite number >= 1"),
    Case("bootstrap interval of 1 resample", lambda: law_interval_forecaster(interval="bootstrap", n_resamples=1),
         "error", r"needs at least 20 resamples, got 1"),
    Case("binomial noise, n_items unknown", lambda: law_interval_forecaster(
        interval="bootstrap", noise="binomial", progress=False)(backtest_frame(n_items=np.nan)),
         "error", r"noise='binomial' needs the number of items of the benchmark \(n_items >= 1\), got nan"),
    Case("direct_law_interval: flat runs without n_items", lambda: direct_law_interval(
        COMPUTE, np.full(8, 0.5), chance=CHANCE, at_compute=1e22), "error", r"lie exactly on the law"),
    Case("direct_law_interval: flat runs with n_items", lambda: direct_law_interval(
        COMPUTE, np.full(8, 0.5), chance=CHANCE, at_compute=[1e19, 1e22], n_items=1000), "sensible",
         check=lambda interval: np.all(interval.upper - interval.lower > 0.04)
         and np.all((interval.lower < 0.5) & (interval.upper > 0.5))),
    Case("direct_law_interval: forecast below the runs", lambda: direct_law_interval(
        COMPUTE, ACCURACY, chance=CHANCE, at_compute=[1e15, 1e18], drift_rate=0.1).to_frame([1e15, 1e18]),
         "sensible", check=lambda table: table["position"].tolist() == ["below", "inside"]
         and table["efolds_outside"].iloc[0] == pytest.approx(np.log(1e3))
         and (table["upper"] - table["lower"]).iloc[0] > (table["upper"] - table["lower"]).iloc[1]),
    # ---- the checksum manifest: what sha256sum -c accepts, malformed lines refused by number
    Case("manifest: upper-case digests", manifest(lambda d: f"{d[C4].upper()}  {C4}\n{d[DCLM].upper()}  {DCLM}\n"),
         "sensible", check=lambda value: value is None),
    Case("manifest: ./name", manifest(lambda d: f"{d[C4]}  ./{C4}\n{d[DCLM]}  ./{DCLM}\n"),
         "sensible", check=lambda value: value is None),
    Case("manifest: binary mode *name", manifest(lambda d: f"{d[C4]} *{C4}\n{d[DCLM]} *{DCLM}\n"),
         "sensible", check=lambda value: value is None),
    Case("manifest: Windows line ends", manifest(lambda d: f"{d[C4]}  {C4}\r\n{d[DCLM]}  {DCLM}\r\n"),
         "sensible", check=lambda value: value is None),
    Case("manifest: --tag lines", manifest(lambda d: f"SHA256 ({C4}) = {d[C4]}\nSHA256 ({DCLM}) = {d[DCLM]}\n"),
         "sensible", check=lambda value: value is None),
    Case("manifest: comment, empty line, indented line",
         manifest(lambda d: f"# released files\n\n  {d[C4]}  {C4}\n{d[DCLM]}  {DCLM}"),
         "sensible", check=lambda value: value is None),
    Case("manifest: one-word line", manifest(lambda d: f"{d[C4]}  {C4}\nfoo\n{d[DCLM]}  {DCLM}\n"),
         "error", r"line 2 is not a checksum line: 'foo'"),
    Case("manifest: blank line of spaces", manifest(lambda d: f"{d[C4]}  {C4}\n   \n{d[DCLM]}  {DCLM}\n"),
         "error", r"line 2 is not a checksum line"),
    Case("manifest: short digest", manifest(lambda d: f"{d[C4][:-1]}  {C4}\n{d[DCLM]}  {DCLM}\n"),
         "error", r"line 1 is not a checksum line"),
    Case("manifest: mixed 'DIGEST  name' and 'DIGEST name'",
         manifest(lambda d: f"{d[C4]}  {C4}\n{d[DCLM]} {DCLM}\n"), "error", r"line 2 is not a checksum line"),
    Case("manifest: a file not listed", manifest(lambda d: f"{d[C4]}  {C4}\n"),
         "error", rf"has no checksum for {DCLM}"),
    Case("manifest: a file listed twice with different digests",
         manifest(lambda d: f"{d[C4]}  {C4}\n{d[DCLM]}  {DCLM}\n{d[DCLM]}  ./{C4}\n"),
         "error", rf"lists ./{C4} twice with different digests, on lines 1 and 3"),
    Case("manifest: a changed file", manifest(lambda d: f"{'0' * 64}  {C4}\n{d[DCLM]}  {DCLM}\n"),
         "error", rf"{C4} does not match its SHA-256 .*`git checkout -- data/{C4}`"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_has_its_outcome(case):
    outcome, seen = observe(case)
    assert outcome == case.expect, seen


def test_case_names_are_unique():
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names)


if __name__ == "__main__":
    outcomes = {case.name: observe(case) for case in CASES}
    for name, (outcome, seen) in outcomes.items():
        print(f"{outcome:>9}  {name}: {' '.join(seen.split())[:150]}")
    counts = Counter(outcome for outcome, _ in outcomes.values())
    required = sum(outcomes[case.name][0] == case.expect for case in CASES)
    print("\n" + ", ".join(f"{outcome}: {counts[outcome]}" for outcome in ("error", "warning", "sensible", "wrong")),
          f"(of {len(CASES)} cases; {required} with the outcome they require)")
    sys.exit(0 if required == len(CASES) else 1)
