"""Tests of scalelib.data.released on the released files (expected counts: shared data README)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelib.data import released as data
from scalelib.data.benchmark_info import BENCHMARKS

DUPLICATED_RUN = "dclm-tpr20-D357358895104"


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    return data.load_results()


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return data.load_runs()


def test_runs_per_mixture_and_tpr(runs):
    counts = runs.groupby(["mixture", "tpr"]).size().to_dict()
    assert counts == {
        ("c4", 20.0): 44,
        ("dclm", 10.0): 24,
        ("dclm", 20.0): 54,
        ("dclm", 40.0): 24,
        ("dclm", 80.0): 24,
        ("dclm", 160.0): 22,
    }


def test_run_ids_are_unique_and_stable(runs):
    assert runs["run"].is_unique
    assert "dclm-tpr20-D1825570816" in set(runs["run"])


def test_no_duplicated_keys_after_deduplication(results):
    keys = ["mixture", "run", "benchmark", "metric"]
    assert not results.duplicated(keys).any()


def test_duplicated_run_is_kept_once_and_marked(results, runs):
    both = data.load_results("dclm", deduplicate=False)
    doubled = both[both.duplicated(["run", "benchmark", "metric"], keep=False)]
    assert set(doubled["run"]) == {DUPLICATED_RUN}
    copies = doubled.pivot_table(index=["benchmark", "metric"], columns="block", values="value")
    differing = copies[copies.iloc[:, 0] != copies.iloc[:, 1]]
    assert set(differing.index.get_level_values("benchmark")) == {"mbpp"}
    assert (differing.iloc[:, 1] - differing.iloc[:, 0]).abs().max() < 1e-3
    assert runs.set_index("run").loc[DUPLICATED_RUN, "n_blocks"] == 2
    assert (runs["n_blocks"] == 1).sum() == len(runs) - 1
    kept = results[(results["run"] == DUPLICATED_RUN) & (results["metric"] == "pass@1")]
    assert kept.set_index("benchmark").loc["mbpp", "value"] == pytest.approx(0.37612, abs=1e-9)


def test_accuracies_lie_in_unit_interval(results):
    scores = results[~results["benchmark"].isin(["c4", "dclm", "fineweb"])]
    bounded = scores[scores["metric"].isin(["acc", "acc_norm", "exact_match", "sympy_equiv"])
                     | scores["metric"].str.startswith("pass@")]
    assert bounded["value"].between(0, 1).all()
    assert len(bounded) > 5000


def test_c4_flops_equal_6nd(results):
    c4 = results[results["mixture"] == "c4"]
    np.testing.assert_allclose(c4["flops"], 6 * c4["params"] * c4["tokens"], rtol=1e-9)


def test_dclm_compute_follows_the_params_rule(runs):
    dclm = runs[runs["mixture"] == "dclm"].set_index("tokens")
    c4 = runs[runs["mixture"] == "c4"].set_index("tokens")
    matched = dclm[dclm["params_source"] == "c4_same_tokens"]
    assert len(matched) == 34
    np.testing.assert_array_equal(matched["params"], c4.loc[matched.index, "params"])
    nominal = dclm[dclm["params_source"] == "tokens_over_tpr"]
    assert not nominal.index.isin(c4.index).any()
    np.testing.assert_allclose(nominal["params"], nominal.index / nominal["tpr"], rtol=1e-12)
    np.testing.assert_allclose(dclm["flops"], 6 * dclm["params"] * dclm.index, rtol=1e-12)


def test_compute_range(runs):
    assert runs["flops"].min() == pytest.approx(1e18, rel=0.01)
    assert 1e22 < runs["flops"].max() < 1e23


def test_broken_code_evaluations_are_flagged(results):
    broken = results[results["broken_eval"]]
    groups = broken.groupby(["run", "benchmark"])
    assert groups.ngroups == 56
    assert set(broken["benchmark"]) == {"lbpp", "mbpp"}
    assert set(broken["mixture"]) == {"dclm"}
    for _, group in groups:
        k = group["metric"].str.removeprefix("pass@").astype(int)
        assert (group.loc[k >= 2, "value"] == 1).all()
        assert (group.loc[k == 1, "value"] < 1).all()
    healthy = results[results["metric"].str.startswith("pass@") & ~results["broken_eval"]]
    healthy_at_2 = healthy[healthy["metric"] == "pass@2"]
    assert (healthy_at_2["value"] < 1).all()


def test_broken_evaluations_are_dropped_from_accuracy_frame_unless_asked():
    default = data.accuracy_frame("dclm", tpr=None, benchmarks=["mbpp", "lbpp"])
    everything = data.accuracy_frame("dclm", tpr=None, benchmarks=["mbpp", "lbpp"], exclude_broken_evals=False)
    assert len(everything) - len(default) == 56


def test_missing_math_and_code_blocks_are_flagged(runs, results):
    has_math_rows = set(results.loc[results["benchmark"].str.startswith("math_"), "run"])
    assert set(runs.loc[runs["has_math"], "run"]) == has_math_rows
    assert runs["has_math"].sum() == 43
    assert not runs.loc[runs["mixture"] == "c4", "has_math"].any()
    assert (~runs.loc[runs["mixture"] == "c4", "has_code"]).sum() == 17


def test_exact_zeros_are_flagged(results):
    zeros = results[results["at_zero"]]
    assert (zeros["value"] == 0).all()
    assert set(zeros["benchmark"]) >= {"gsm8k_cot_llama", "webqs_1shot", "humaneval-py"}
    scores = results[~results["benchmark"].isin(["c4", "dclm", "fineweb"])]
    assert (scores["value"] == 0).sum() == len(zeros)


def test_scientific_notation_and_float_noise_are_read_as_written(results):
    raw = Path(data.default_data_dir(), data.MIXTURES["dclm"]).read_text().splitlines()
    written = {int(line.split(",")[0]): line.split(",")[4] for line in raw[1:]}
    dclm = results[results["mixture"] == "dclm"]
    for source_row, value in zip(dclm["source_row"], dclm["value"]):
        assert value == float(written[source_row])
    assert any("e-" in v for v in written.values())


def test_validation_losses_in_runs_table(runs):
    losses = runs[["loss_c4", "loss_dclm", "loss_fineweb"]]
    assert losses.notna().all().all()
    assert losses.stack().between(2.0, 5.0).all()


def test_accuracy_frame_uses_default_metrics():
    frame = data.accuracy_frame("c4")
    assert frame.groupby("benchmark")["metric"].first().to_dict() == {
        name: BENCHMARKS[name].default_metric for name in frame["benchmark"].unique()
    }
    assert (frame["tpr"] == 20).all()
    assert not frame.duplicated(["run", "benchmark"]).any()
    assert set(frame["chance"]) == {0.0, 0.25, 0.5}


def _copy_release(tmp_path: Path) -> Path:
    for name in [*data.MIXTURES.values(), data.MANIFEST]:
        shutil.copy(Path(data.default_data_dir(), name), tmp_path / name)
    return tmp_path


def _rewrite(tmp_path: Path, mixture: str, edit) -> None:
    """Edit a copied release file and update the manifest so format checks are reached."""
    path = tmp_path / data.MIXTURES[mixture]
    path.write_text(edit(path.read_text()))
    lines = []
    for line in (tmp_path / data.MANIFEST).read_text().splitlines():
        digest, name = line.split()
        if name == path.name:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {name}")
    (tmp_path / data.MANIFEST).write_text("\n".join(lines) + "\n")


def test_changed_file_fails_its_checksum(tmp_path):
    copy = _copy_release(tmp_path)
    path = copy / data.MIXTURES["c4"]
    path.write_text(path.read_text().replace("0.17064846416382254", "0.17064846416382255"))
    with pytest.raises(data.ChecksumMismatchError, match=r"metrics_c4_mixture.filtered.csv does not match.*git checkout"):
        data.load_results("c4", data_dir=copy)


def test_missing_column_is_named(tmp_path):
    copy = _copy_release(tmp_path)
    _rewrite(copy, "dclm", lambda text: text.replace(",tpr\n", ",ratio\n", 1))
    with pytest.raises(data.ReleaseFileError, match=r"missing column\(s\) \['tpr'\]"):
        data.load_results("dclm", data_dir=copy)


def test_non_numeric_value_is_located(tmp_path):
    copy = _copy_release(tmp_path)
    _rewrite(copy, "c4", lambda text: text.replace("0.17064846416382254", "n/a", 1))
    with pytest.raises(data.ReleaseFileError, match=r"non-numeric value\(s\) in column 'score', first on line 2: 'n/a'"):
        data.load_results("c4", data_dir=copy)


def test_unknown_benchmark_in_file_is_refused(tmp_path):
    copy = _copy_release(tmp_path)
    _rewrite(copy, "c4", lambda text: text.replace(",winogrande,", ",winograd,", 1))
    with pytest.raises(data.ReleaseFileError, match=r"unknown benchmark name\(s\) \['winograd'\]"):
        data.load_results("c4", data_dir=copy)


def test_missing_manifest_is_reported(tmp_path):
    copy = _copy_release(tmp_path)
    (copy / data.MANIFEST).unlink()
    with pytest.raises(data.ReleaseFileError, match="no checksum manifest"):
        data.load_results(data_dir=copy)


def test_unknown_mixture_is_refused():
    with pytest.raises(ValueError, match=r"unknown mixture 'pile'; choose one of \['c4', 'dclm'\]"):
        data.load_results("pile")


def test_unknown_benchmark_is_refused():
    with pytest.raises(KeyError, match="unknown benchmark 'arc'"):
        data.accuracy_frame("c4", benchmarks=["arc"])


def test_unknown_tpr_is_refused():
    with pytest.raises(ValueError, match=r"no runs at tpr=30; released ratios: \['10', '20', '40', '80', '160'\]"):
        data.accuracy_frame("dclm", tpr=30)


def _lines(line, separator=""):
    """A manifest of the released files, one ``line(name, digest)`` each."""
    return lambda digests: separator.join(line(name, digest) for name, digest in digests.items())


MANIFESTS = {  # name: (manifest text from {file: digest}, accepted by `sha256sum --strict -c`)
    "text mode": (_lines(lambda name, digest: f"{digest}  {name}\n"), True),
    "upper-case digests": (_lines(lambda name, digest: f"{digest.upper()}  {name}\n"), True),
    "./name": (_lines(lambda name, digest: f"{digest}  ./{name}\n"), True),
    "binary mode": (_lines(lambda name, digest: f"{digest} *{name}\n"), True),
    "reversed BSD form": (_lines(lambda name, digest: f"{digest} {name}\n"), True),
    "tab separator": (_lines(lambda name, digest: f"{digest}\t{name}\n"), True),
    "--tag form": (_lines(lambda name, digest: f"SHA256 ({name}) = {digest}\n"), True),
    "Windows line ends": (_lines(lambda name, digest: f"{digest}  {name}\r\n"), True),
    "comments and empty lines": (_lines(lambda name, digest: f"# {name}\n\n{digest}  {name}\n"), True),
    "indented lines": (_lines(lambda name, digest: f"  {digest}  {name}\n"), True),
    "escaped names": (_lines(lambda name, digest: f"\\{digest}  {name}\n"), True),
    "no final newline": (_lines(lambda name, digest: f"{digest}  {name}", "\n"), True),
    "one-word line": (_lines(lambda name, digest: f"{digest}  {name}\nfoo\n"), False),
    "line of spaces": (_lines(lambda name, digest: f"   \n{digest}  {name}\n"), False),
    "short digest": (_lines(lambda name, digest: f"{digest[1:]}  {name}\n"), False),
    "non-hex digest": (_lines(lambda name, digest: f"{digest[:-1]}g  {name}\n"), False),
    "digest and name only": (_lines(lambda name, digest: f"{digest}\n"), False),
    "mixed forms": (lambda digests: "".join(
        f"{digest}{'  ' if index == 0 else ' '}{name}\n" for index, (name, digest) in enumerate(digests.items())
    ), False),
}


@pytest.mark.parametrize("name", list(MANIFESTS))
def test_manifest_is_read_as_sha256sum_reads_it(tmp_path, name):
    """Intact files pass whatever form sha256sum -c accepts; malformed lines are refused by number."""
    build, accepted = MANIFESTS[name]
    copy = _copy_release(tmp_path)
    digests = {file: hashlib.sha256((copy / file).read_bytes()).hexdigest() for file in data.MIXTURES.values()}
    (copy / data.MANIFEST).write_bytes(build(digests).encode())
    if accepted:
        data.verify_checksums(copy)
    else:
        with pytest.raises(data.ReleaseFileError, match=r"SHA256SUMS line \d+ is not a checksum line"):
            data.verify_checksums(copy)
    if shutil.which("sha256sum"):
        checked = subprocess.run(["sha256sum", "--strict", "--quiet", "-c", data.MANIFEST], cwd=copy,
                                 capture_output=True, check=False)
        assert (checked.returncode == 0) == accepted, checked.stderr
