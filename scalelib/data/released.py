"""Load the released evaluation results of Krajewski et al. (2025) as tidy frames.

The two released files (``data/``, see ``data/README.md``) hold one line per
(run, benchmark, metric). This module verifies them against their SHA-256 manifest,
splits them into runs, handles the known quirks in the open, and returns

* :func:`load_results` -- the tidy long frame, one row per (mixture, run, benchmark,
  metric), with the run's N, D, tpr and compute C = 6 N D on every row;
* :func:`load_runs` -- one row per run: N, D, tpr, C and the three validation losses;
* :func:`accuracy_frame` -- one row per (run, benchmark) with the book's default metric,
  chance level and benchmark size, ready for the scaling-law fits.

Parameter counts (quirk 1 of the release). The C4 file gives N. The DCLM file gives
only D and the *nominal* tokens-per-parameter ratio; the real models differ from the
design targets (in C4, D / N ranges from 18.0 to 22.3 at nominal tpr 20). Rule used
here, recorded per run in ``params_source``:

* ``"c4_same_tokens"`` -- a C4 run with the identical token count exists (same design
  point, same architecture): N is that run's parameter count;
* ``"tokens_over_tpr"`` -- otherwise N = D / tpr, the design target.

Other quirks, each visible in a column or an argument:

* duplicated run (DCLM, D = 357,358,895,104 at tpr 20: two back-to-back blocks,
  identical except MBPP pass@k, which differs by less than 0.001):
  ``deduplicate=True`` keeps the first block; ``n_blocks`` says 2;
* broken code evaluations (pass@1 < 1 while every pass@k for k >= 2 is exactly 1):
  flagged ``broken_eval``; :func:`accuracy_frame` drops them unless asked not to;
* exact zeros of generative and code scores: flagged ``at_zero``;
* runs without MATH or code rows: ``has_math`` and ``has_code`` in the runs table;
* scores in scientific notation or with float noise are read as written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from scalelib.data.benchmark_info import BENCHMARKS, VALIDATION_SETS, get_benchmark

__all__ = [
    "MIXTURES",
    "ReleaseFileError",
    "ChecksumMismatchError",
    "default_data_dir",
    "verify_checksums",
    "load_results",
    "load_runs",
    "accuracy_frame",
]

MIXTURES: dict[str, str] = {
    "dclm": "metrics_dclm_data_mixture.filtered.csv",
    "c4": "metrics_c4_mixture.filtered.csv",
}
"""Released file of each pre-training mixture."""

MANIFEST = "SHA256SUMS"

_GNU_LINE = re.compile(r"(?P<digest>[0-9A-Fa-f]{64})[ \t](?P<mode>[ *]?)(?P<name>.+)")
"""A ``sha256sum`` line: digest, a separator, ``' '`` (text mode) or ``'*'`` (binary mode), the name."""
_TAG_LINE = re.compile(r"SHA256 ?\((?P<name>.+)\) ?= ?(?P<digest>[0-9A-Fa-f]{64})")
"""A ``sha256sum --tag`` (BSD-style) line: ``SHA256 (name) = digest``."""

_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "dclm": ("tokens", "benchmark", "metric_type", "score", "tpr"),
    "c4": ("flops", "params", "tokens", "benchmark", "metric_type", "score", "tpr"),
}
_NUMERIC_COLUMNS = ("flops", "params", "tokens", "score", "tpr")


class ReleaseFileError(ValueError):
    """A released data file is missing, malformed or not the released one."""


class ChecksumMismatchError(ReleaseFileError):
    """A data file's SHA-256 differs from the manifest."""


def default_data_dir() -> Path:
    """The repository's ``data/`` folder (``scalelib`` is installed editable from it)."""
    return Path(__file__).resolve().parents[2] / "data"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unescape(name: str) -> str:
    """Undo ``sha256sum``'s escaping of a name on a line starting with a backslash."""
    return re.sub(r"\\(.)", lambda match: {"n": "\n", "r": "\r", "\\": "\\"}.get(match[1], match[0]), name)


def _read_manifest(data_dir: Path) -> dict[Path, str]:
    """The manifest as ``{resolved path: lower-case digest}``, read as ``sha256sum -c`` reads it.

    Accepted, as by GNU ``sha256sum --strict -c``: ``DIGEST  name`` (text mode),
    ``DIGEST *name`` (binary mode), or throughout the file ``DIGEST name`` (one space or
    tab, the reversed BSD form); digests in either case; names as paths relative to the
    manifest's folder (``./name``); the ``--tag`` form ``SHA256 (name) = DIGEST``;
    escaped names (a line starting with a backslash); leading whitespace, Windows line
    ends, empty lines and comment lines starting with ``#``. Anything else is refused by
    line number (like ``sha256sum --strict``), as is a file listed twice with different
    digests.
    """
    manifest = data_dir / MANIFEST
    if not manifest.is_file():
        raise ReleaseFileError(
            f"no checksum manifest {manifest}; pass data_dir= pointing at the book's data/ folder"
        )
    try:
        text = manifest.read_bytes().decode("utf-8")  # bytes: line ends are read as sha256sum reads them
    except UnicodeDecodeError:
        raise ReleaseFileError(f"{manifest} is not a text file; restore it with `git checkout -- data/{MANIFEST}`") from None
    entries: dict[Path, tuple[str, int]] = {}
    reversed_form = None  # whether the file's digest-first lines are all 'DIGEST name', once known
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line or line.startswith("#"):
            continue
        body = line.lstrip(" \t")
        escaped = body.startswith("\\")
        body = body.removeprefix("\\")
        match = _TAG_LINE.fullmatch(body) or _GNU_LINE.fullmatch(body)
        if match is not None and "mode" in match.groupdict():
            if reversed_form is None:
                reversed_form = match["mode"] == ""
            if reversed_form != (match["mode"] == ""):
                match = None  # sha256sum refuses files that mix 'DIGEST  name' and 'DIGEST name'
        if match is None:
            raise ReleaseFileError(
                f"{manifest} line {number} is not a checksum line: {line!r}; expected "
                "'<64 hex digits>  <file name>' as written by sha256sum"
            )
        name = _unescape(match["name"]) if escaped else match["name"]
        path, digest = (data_dir / name).resolve(), match["digest"].lower()
        if path in entries and entries[path][0] != digest:
            raise ReleaseFileError(
                f"{manifest} lists {name} twice with different digests, on lines {entries[path][1]} and {number}"
            )
        entries[path] = (digest, number)
    return {path: digest for path, (digest, _) in entries.items()}


def verify_checksums(data_dir: Path | None = None, mixtures: Iterable[str] = MIXTURES) -> None:
    """Check the released files against ``data/SHA256SUMS``.

    The manifest is read as ``sha256sum -c`` reads it (see :func:`_read_manifest`).

    Raises
    ------
    ReleaseFileError
        For a missing file or manifest, a malformed manifest line (by line number) or
        a file the manifest does not list.
    ChecksumMismatchError
        Naming the file whose content changed and how to restore it.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    manifest = _read_manifest(data_dir)
    for mixture in mixtures:
        name = MIXTURES[_check_mixture(mixture)]
        path = data_dir / name
        if not path.is_file():
            raise ReleaseFileError(f"released file {path} is missing; restore it with `git checkout -- data/{name}`")
        expected = manifest.get(path.resolve())
        if expected is None:
            raise ReleaseFileError(
                f"{data_dir / MANIFEST} has no checksum for {name}; restore the manifest with "
                f"`git checkout -- data/{MANIFEST}`"
            )
        digest = _sha256(path)
        if digest != expected:
            raise ChecksumMismatchError(
                f"{path} does not match its SHA-256 in {data_dir / MANIFEST} "
                f"(got {digest}, expected {expected}). The released data must stay "
                f"verbatim: restore it with `git checkout -- data/{name}`; if you deliberately "
                f"replaced it with a newer upstream release, update data/README.md and the manifest."
            )


def _check_mixture(mixture: str) -> str:
    if mixture not in MIXTURES:
        raise ValueError(f"unknown mixture {mixture!r}; choose one of {sorted(MIXTURES)}")
    return mixture


def _mixture_list(mixture: str | Iterable[str] | None) -> list[str]:
    if mixture is None:
        return list(MIXTURES)
    if isinstance(mixture, str):
        return [_check_mixture(mixture)]
    return [_check_mixture(m) for m in mixture]


def _read_release_file(path: Path, mixture: str) -> pd.DataFrame:
    """Read one released file and check its columns, numbers and benchmark names."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.rename(columns={raw.columns[0]: "source_row"})
    missing = [c for c in _REQUIRED_COLUMNS[mixture] if c not in raw.columns]
    if missing:
        raise ReleaseFileError(f"{path.name}: missing column(s) {missing}; found {list(raw.columns)}")
    frame = raw.copy()
    for column in ("source_row", *[c for c in _NUMERIC_COLUMNS if c in raw.columns]):
        frame[column] = pd.to_numeric(raw[column].str.strip(), errors="coerce")
        bad = frame[column].isna()
        if bad.any():
            first = bad.to_numpy().nonzero()[0][0]
            raise ReleaseFileError(
                f"{path.name}: {bad.sum()} non-numeric value(s) in column {column!r}, "
                f"first on line {first + 2}: {raw[column].iloc[first]!r}"
            )
    known = set(BENCHMARKS) | set(VALIDATION_SETS)
    unknown = sorted(set(frame["benchmark"]) - known)
    if unknown:
        raise ReleaseFileError(f"{path.name}: unknown benchmark name(s) {unknown}; known: {sorted(known)}")
    frame["source_row"] = frame["source_row"].astype(int)
    return frame.rename(columns={"metric_type": "metric", "score": "value"})


def _number_blocks(frame: pd.DataFrame) -> pd.Series:
    """Number the run blocks of a file, in file order.

    A block is a stretch of consecutive lines of one run. A new block starts when
    (tokens, tpr) changes, or when a (benchmark, metric) pair repeats inside the
    current block: that is how the duplicated run shows up (two blocks back to back).
    """
    blocks = np.empty(len(frame), dtype=int)
    block, seen, previous = -1, set(), None
    for i, (tokens, tpr, benchmark, metric) in enumerate(
        frame[["tokens", "tpr", "benchmark", "metric"]].itertuples(index=False)
    ):
        if (tokens, tpr) != previous or (benchmark, metric) in seen:
            block, seen, previous = block + 1, set(), (tokens, tpr)
        seen.add((benchmark, metric))
        blocks[i] = block
    return pd.Series(blocks, index=frame.index)


def _run_id(mixture: str, tpr: float, tokens: float) -> str:
    return f"{mixture}-tpr{tpr:g}-D{tokens:.0f}"


def _flag_broken_evals(frame: pd.DataFrame) -> pd.Series:
    """True on every row of a (block, code benchmark) whose pass@k is 1 for all k >= 2 but pass@1 < 1."""
    passk = frame[frame["metric"].str.startswith("pass@")]
    k = passk["metric"].str.removeprefix("pass@").astype(int)
    by_group = [passk["block"], passk["benchmark"]]
    beyond_1 = passk["value"].where(k >= 2)
    all_ones_beyond_1 = (beyond_1 == 1).groupby(by_group).sum() == beyond_1.notna().groupby(by_group).sum()
    has_beyond_1 = beyond_1.notna().groupby(by_group).any()
    below_1_at_1 = passk["value"].where(k == 1).groupby(by_group).max() < 1
    broken = all_ones_beyond_1 & has_beyond_1 & below_1_at_1
    keys = pd.MultiIndex.from_frame(frame[["block", "benchmark"]])
    return pd.Series(broken.reindex(keys, fill_value=False).to_numpy(), index=frame.index)


def _load_mixture(mixture: str, data_dir: Path, deduplicate: bool) -> pd.DataFrame:
    frame = _read_release_file(data_dir / MIXTURES[mixture], mixture)
    frame["block"] = _number_blocks(frame)
    frame["mixture"] = mixture
    frame["run"] = [_run_id(mixture, tpr, tokens) for tpr, tokens in zip(frame["tpr"], frame["tokens"])]
    frame["n_blocks"] = frame.groupby("run")["block"].transform("nunique")
    if deduplicate:
        first_block = frame.groupby("run")["block"].transform("min")
        frame = frame[frame["block"] == first_block]
    frame["broken_eval"] = _flag_broken_evals(frame)
    is_score = ~frame["benchmark"].isin(VALIDATION_SETS) & frame["metric"].isin(
        ["acc", "acc_norm", "exact_match", "sympy_equiv"]
    ) | frame["metric"].str.startswith("pass@")
    frame["at_zero"] = is_score & (frame["value"] == 0)
    return frame.reset_index(drop=True)


def _attach_params(frame: pd.DataFrame, c4: pd.DataFrame) -> pd.DataFrame:
    """Give every row N and C = 6 N D following the rule of the module docstring."""
    c4_params = c4.drop_duplicates("tokens").set_index("tokens")["params"]
    if "params" in frame.columns:  # the C4 file states N itself
        frame["params_source"] = "released"
        return frame
    matched = frame["tokens"].map(c4_params)
    frame["params"] = matched.fillna(frame["tokens"] / frame["tpr"])
    frame["params_source"] = np.where(matched.notna(), "c4_same_tokens", "tokens_over_tpr")
    frame["flops"] = 6.0 * frame["params"] * frame["tokens"]
    return frame


_LONG_COLUMNS = [
    "mixture", "run", "params", "tokens", "tpr", "flops", "params_source",
    "benchmark", "metric", "value", "broken_eval", "at_zero", "n_blocks", "block", "source_row",
]


def load_results(
    mixture: str | Iterable[str] | None = None,
    *,
    data_dir: Path | str | None = None,
    deduplicate: bool = True,
) -> pd.DataFrame:
    """Load the released results as a tidy frame, one row per (mixture, run, benchmark, metric).

    Parameters
    ----------
    mixture
        ``"dclm"``, ``"c4"``, a list of them, or None for both.
    data_dir
        Folder with the released files and ``SHA256SUMS``; the book's ``data/`` by default.
    deduplicate
        Keep only the first block of a run that appears more than once (quirk 2).
        With False, both blocks are returned and ``block`` tells them apart.

    Returns
    -------
    pandas.DataFrame
        Columns ``mixture, run, params (N), tokens (D), tpr (nominal), flops (C = 6 N D),
        params_source, benchmark, metric, value, broken_eval, at_zero, n_blocks, block,
        source_row`` (the upstream row index, for provenance). Validation losses appear
        as benchmarks ``c4``, ``dclm``, ``fineweb`` with metric ``cross_entropy_loss``.

    Raises
    ------
    ValueError
        For an unknown mixture name.
    ReleaseFileError
        For a missing file, missing column, non-numeric value or unknown benchmark.
    ChecksumMismatchError
        If a file differs from the manifest.
    """
    mixtures = _mixture_list(mixture)
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    needed = sorted(set(mixtures) | {"c4"})  # DCLM parameter counts come from the C4 file
    verify_checksums(data_dir, needed)
    c4 = _load_mixture("c4", data_dir, deduplicate)
    frames = [_attach_params(c4 if m == "c4" else _load_mixture(m, data_dir, deduplicate), c4) for m in mixtures]
    return pd.concat([f[_LONG_COLUMNS] for f in frames], ignore_index=True)


def load_runs(
    mixture: str | Iterable[str] | None = None,
    *,
    data_dir: Path | str | None = None,
) -> pd.DataFrame:
    """One row per run: size, data, compute and validation losses.

    Returns
    -------
    pandas.DataFrame
        Columns ``mixture, run, params, tokens, tpr, tpr_actual (D / N), flops,
        flops_nominal (6 D^2 / tpr, the compute if N were the design target),
        params_source, loss_c4, loss_dclm, loss_fineweb`` (per-token cross-entropy in
        nats), ``has_math, has_code, n_blocks``; sorted by mixture, tpr and compute.
    """
    results = load_results(mixture, data_dir=data_dir)
    keys = ["mixture", "run", "params", "tokens", "tpr", "flops", "params_source", "n_blocks"]
    runs = results.groupby(keys, sort=False).agg(
        has_math=("benchmark", lambda b: (b == "math_minerva").any()),
        has_code=("metric", lambda m: m.str.startswith("pass@").any()),
    ).reset_index()
    losses = (
        results[results["benchmark"].isin(VALIDATION_SETS)]
        .pivot(index="run", columns="benchmark", values="value")
        .add_prefix("loss_")
    )
    runs = runs.join(losses, on="run")
    runs["tpr_actual"] = runs["tokens"] / runs["params"]
    runs["flops_nominal"] = 6.0 * runs["tokens"] ** 2 / runs["tpr"]
    columns = [
        "mixture", "run", "params", "tokens", "tpr", "tpr_actual", "flops", "flops_nominal",
        "params_source", *[f"loss_{v}" for v in VALIDATION_SETS], "has_math", "has_code", "n_blocks",
    ]
    return runs[columns].sort_values(["mixture", "tpr", "flops"]).reset_index(drop=True)


def accuracy_frame(
    mixture: str | Iterable[str] | None = None,
    *,
    tpr: float | None = 20,
    benchmarks: Iterable[str] | None = None,
    metric: str = "default",
    exclude_broken_evals: bool = True,
    data_dir: Path | str | None = None,
) -> pd.DataFrame:
    """One row per (run, benchmark): the score the scaling laws are fitted to.

    Parameters
    ----------
    mixture
        ``"dclm"``, ``"c4"``, a list, or None for both.
    tpr
        Keep runs of this nominal tokens-per-parameter ratio; None keeps every ratio.
    benchmarks
        Benchmark names to keep (default: every downstream benchmark).
    metric
        ``"default"`` uses each benchmark's default metric
        (:data:`scalelib.data.benchmark_info.BENCHMARKS`); any other name (for example
        ``"acc"``) is used for every benchmark that releases it.
    exclude_broken_evals
        Drop the code evaluations flagged ``broken_eval`` (they are not measurements
        of the model, see quirk 3). Exact zeros are kept and flagged ``at_zero``:
        whether a law can use them is the law's decision.

    Returns
    -------
    pandas.DataFrame
        Columns ``mixture, run, params, tokens, tpr, flops, params_source, benchmark,
        metric, value, chance, n_items, task_type, at_zero``, sorted by mixture,
        benchmark and compute.
    """
    results = load_results(mixture, data_dir=data_dir)
    names = list(BENCHMARKS) if benchmarks is None else [get_benchmark(b).name for b in benchmarks]
    if tpr is not None:
        available = sorted(results["tpr"].unique())
        if tpr not in available:
            raise ValueError(f"no runs at tpr={tpr:g}; released ratios: {[f'{t:g}' for t in available]}")
        results = results[results["tpr"] == tpr]
    wanted = pd.Series({b: BENCHMARKS[b].default_metric if metric == "default" else metric for b in names})
    keep = results["benchmark"].isin(names) & (results["metric"] == results["benchmark"].map(wanted))
    if exclude_broken_evals:
        keep &= ~results["broken_eval"]
    frame = results[keep].copy()
    if frame.empty:
        raise ValueError(f"no scores for metric {metric!r} on benchmarks {names}")
    frame["chance"] = frame["benchmark"].map(lambda b: BENCHMARKS[b].chance)
    frame["n_items"] = frame["benchmark"].map(lambda b: BENCHMARKS[b].n_items)
    frame["task_type"] = frame["benchmark"].map(lambda b: BENCHMARKS[b].task_type)
    order = {b: i for i, b in enumerate(BENCHMARKS)}
    frame = frame.sort_values(["mixture", "benchmark", "flops"], key=lambda s: s.map(order) if s.name == "benchmark" else s)
    columns = [
        "mixture", "run", "params", "tokens", "tpr", "flops", "params_source", "benchmark",
        "metric", "value", "chance", "n_items", "task_type", "at_zero",
    ]
    return frame[columns].reset_index(drop=True)
