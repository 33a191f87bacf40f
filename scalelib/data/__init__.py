"""The data: the released results, what each benchmark is, chance normalisation, checks.

- :mod:`~scalelib.data.released`: load the released evaluation results as tidy frames
  (re-exported here, so ``from scalelib import data; data.load_runs()`` works);
- :mod:`~scalelib.data.benchmark_info`, :mod:`~scalelib.data.normalise`,
  :mod:`~scalelib.data.validation`: benchmark metadata, chance normalisation, input checks;
- ``direct_data``, ``ratio_data``, ``two_stage_data``, ``pass_at_k_data``: the run sets
  each chapter uses, and :mod:`~scalelib.data.compute_cuts`, the cuts of its backtests;
- :mod:`~scalelib.data.pass_at_k_estimator`: the unbiased pass@k estimator.
"""

from scalelib.data.released import (
    MIXTURES,
    ChecksumMismatchError,
    ReleaseFileError,
    accuracy_frame,
    default_data_dir,
    load_results,
    load_runs,
    verify_checksums,
)

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
