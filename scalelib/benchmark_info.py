"""What each released benchmark is: task type, size, chance level, default metric.

The released files give scores only. The facts below come from two places, and each
entry says which:

* **inferred from the data** -- for a benchmark scored by plain accuracy over ``n``
  items, every score is an integer multiple of ``1 / n``. The smallest such ``n`` is
  the number of items (``tests/test_benchmark_info.py`` re-derives it from the files);
* **from the benchmark's public release** -- where scores are averages over
  subsets (MMLU, MATH) or estimates from many samples (pass@k), ``n`` cannot be read
  off the scores and is the size of the public evaluation split.

Chance accuracy is what a model guessing uniformly among the answer options gets:
0.25 for four-way multiple choice, 0.5 for two-way, and 0 for generative tasks, whose
answer space is open.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = [
    "Benchmark",
    "BENCHMARKS",
    "HEADLINE_BENCHMARKS",
    "VALIDATION_SETS",
    "benchmark_table",
    "get_benchmark",
]


@dataclass(frozen=True)
class Benchmark:
    """Metadata of one downstream benchmark.

    Attributes
    ----------
    name
        Name as it appears in the released files (``benchmark`` column).
    label
        Short human-readable name for tables and figure panels.
    task_type
        ``"multiple_choice"`` (the model ranks given options by likelihood),
        ``"generative"`` (free-form answer, scored by exact match) or ``"code"``
        (generated programs, scored by unit tests as pass@k).
    n_items
        Number of evaluation items; sets the evaluation noise ``sqrt(p (1 - p) / n)``.
    n_items_source
        ``"inferred from the data"`` or ``"public split size"`` (see module docstring).
    chance
        Accuracy of uniform guessing among the options (0 for open answers).
    default_metric
        The metric the book uses unless told otherwise.
    metric_reason
        Why that metric is the default.
    """

    name: str
    label: str
    task_type: str
    n_items: int
    n_items_source: str
    chance: float
    default_metric: str
    metric_reason: str


_INFERRED = "inferred from the data"
_PUBLIC = "public split size"

_LENGTH_NORMALISED = (
    "answer options are multi-token continuations of different lengths; the summed "
    "log-likelihood favours short options, so the length-normalised score (acc_norm) "
    "is the one usually reported (GPT-3, OLMo, DCLM evaluations)"
)
_ONLY_METRIC = "the only accuracy metric released for it"
_EXACT_MATCH = "free-form answers scored by exact match after normalisation"
_PASS_AT_1 = "pass@1, the share of problems solved by a single sample; pass@k is chapter 5's topic"

BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in [
        Benchmark("arc_easy", "ARC-Easy", "multiple_choice", 2376, _INFERRED, 0.25, "acc_norm", _LENGTH_NORMALISED),
        Benchmark("arc_challenge", "ARC-Challenge", "multiple_choice", 1172, _INFERRED, 0.25, "acc_norm", _LENGTH_NORMALISED),
        Benchmark("hellaswag", "HellaSwag", "multiple_choice", 10042, _INFERRED, 0.25, "acc_norm", _LENGTH_NORMALISED),
        Benchmark("piqa", "PIQA", "multiple_choice", 1838, _INFERRED, 0.5, "acc_norm", _LENGTH_NORMALISED),
        Benchmark(
            "sciq", "SciQ", "multiple_choice", 1000, _INFERRED, 0.25, "acc",
            "options are short terms of similar length; length normalisation only adds "
            "noise here (acc_norm is below acc for every run)",
        ),
        Benchmark(
            "winogrande", "Winogrande", "multiple_choice", 1267, _INFERRED, 0.5, "acc",
            _ONLY_METRIC + " (partial scoring compares the same continuation, so length "
            "normalisation has nothing to correct)",
        ),
        Benchmark(
            "mmlu", "MMLU", "multiple_choice", 14042, _PUBLIC, 0.25, "acc",
            "answers are single letters, so acc and acc_norm are identical; the score is "
            "an average over subjects",
        ),
        Benchmark("lambada_openai", "LAMBADA", "generative", 5153, _INFERRED, 0.0, "acc",
                  _ONLY_METRIC + " (the last word of a passage, predicted exactly)"),
        Benchmark("triviaqa_1shot", "TriviaQA", "generative", 11313, _INFERRED, 0.0, "exact_match", _EXACT_MATCH),
        Benchmark("webqs_1shot", "WebQuestions", "generative", 2032, _INFERRED, 0.0, "exact_match", _EXACT_MATCH),
        Benchmark("gsm8k_cot_llama", "GSM8K", "generative", 1319, _INFERRED, 0.0, "exact_match",
                  _EXACT_MATCH + " of the final number after a chain of thought"),
        Benchmark(
            "math_minerva", "MATH", "generative", 5000, _PUBLIC, 0.0, "exact_match",
            _EXACT_MATCH + " (Minerva normalisation); the score is the unweighted mean of "
            "the seven subjects; sympy_equiv, a symbolic-equivalence check, is also released",
        ),
        *[
            Benchmark(
                f"math_{subject}_cot_minerva", f"MATH {label}", "generative", n, _INFERRED, 0.0,
                "exact_match", _EXACT_MATCH + " (Minerva normalisation), as for MATH overall",
            )
            for subject, label, n in [
                ("algebra", "algebra", 1187),
                ("counting_and_probability", "counting & prob.", 474),
                ("geometry", "geometry", 479),
                ("intermediate_algebra", "interm. algebra", 903),
                ("number_theory", "number theory", 540),
                ("prealgebra", "prealgebra", 871),
                ("precalculus", "precalculus", 546),
            ]
        ],
        Benchmark("humaneval-py", "HumanEval", "code", 164, _PUBLIC, 0.0, "pass@1", _PASS_AT_1),
        Benchmark("mbpp", "MBPP", "code", 500, _PUBLIC, 0.0, "pass@1", _PASS_AT_1),
        Benchmark("lbpp", "LBPP", "code", 162, _PUBLIC, 0.0, "pass@1", _PASS_AT_1),
    ]
}
"""Every downstream benchmark in the released files, keyed by its released name."""

HEADLINE_BENCHMARKS: tuple[str, ...] = tuple(
    name for name in BENCHMARKS if not (name.startswith("math_") and name.endswith("_cot_minerva"))
)
"""Every benchmark except the seven MATH subjects (MATH appears once, as ``math_minerva``)."""

VALIDATION_SETS: tuple[str, ...] = ("c4", "dclm", "fineweb")
"""Validation sets whose per-token cross-entropy (nats) is released for every run."""


def get_benchmark(name: str) -> Benchmark:
    """Return the metadata of benchmark ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not a released benchmark; the message lists the known names.
    """
    try:
        return BENCHMARKS[name]
    except KeyError:
        known = ", ".join(sorted(BENCHMARKS))
        raise KeyError(f"unknown benchmark {name!r}; known benchmarks: {known}") from None


def benchmark_table() -> pd.DataFrame:
    """All benchmark metadata as a frame, one row per benchmark, in the book's order."""
    return pd.DataFrame([vars(b) for b in BENCHMARKS.values()]).set_index("name")
