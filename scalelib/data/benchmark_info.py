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
    "ChanceLevel",
    "CHANCE_LEVELS",
    "ALIASES",
    "canonical_name",
    "known_chance",
    "known_n_items",
    "chance_level_table",
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


# --------------------------------------------------------------------------- common tasks


@dataclass(frozen=True)
class ChanceLevel:
    """Chance accuracy of a common evaluation task that is not in the released files.

    Attributes
    ----------
    name
        Canonical name (as the lm-evaluation-harness names the task).
    n_options
        Number of answer options per item; 0 for open answers.
    source
        Where the number of options is stated: the paper introducing the dataset.
    """

    name: str
    n_options: int
    source: str

    @property
    def chance(self) -> float:
        """Uniform guessing among the options, ``1 / n_options`` (0 for open answers)."""
        return 1.0 / self.n_options if self.n_options else 0.0


CHANCE_LEVELS: dict[str, ChanceLevel] = {
    c.name: c
    for c in [
        ChanceLevel("boolq", 2, "Clark et al. 2019, BoolQ: yes/no questions"),
        ChanceLevel("copa", 2, "Roemmele et al. 2011, COPA: two alternatives per premise"),
        ChanceLevel("openbookqa", 4, "Mihaylov et al. 2018, OpenBookQA: four-way multiple choice"),
        ChanceLevel("commonsense_qa", 5, "Talmor et al. 2019, CommonsenseQA: five answer choices"),
        ChanceLevel("siqa", 3, "Sap et al. 2019, Social IQa: three answer choices"),
        ChanceLevel("winograd", 2, "Levesque et al. 2012, Winograd Schema Challenge (WSC273): two candidates"),
        ChanceLevel("logiqa", 4, "Liu et al. 2020, LogiQA: four options per question"),
        ChanceLevel("mathqa", 5, "Amini et al. 2019, MathQA: five options per problem"),
        ChanceLevel("race", 4, "Lai et al. 2017, RACE: four options per question"),
        ChanceLevel("rte", 2, "Dagan et al. 2005 / SuperGLUE: entailment or not"),
        ChanceLevel("wic", 2, "Pilehvar and Camacho-Collados 2019, WiC: same sense or not"),
        ChanceLevel("wsc", 2, "SuperGLUE WSC: the pronoun refers to the candidate or not"),
        ChanceLevel("cb", 3, "de Marneffe et al. 2019, CommitmentBank: entailment, contradiction, neutral"),
        ChanceLevel("anli", 3, "Nie et al. 2020, Adversarial NLI: entailment, contradiction, neutral"),
        ChanceLevel("mnli", 3, "Williams et al. 2018, MultiNLI: entailment, contradiction, neutral"),
        ChanceLevel("qnli", 2, "Wang et al. 2019, GLUE QNLI: the sentence answers the question or not"),
        ChanceLevel("storycloze", 2, "Mostafazadeh et al. 2016, Story Cloze: two candidate endings"),
        ChanceLevel("headqa", 4, "Vilares and Gomez-Rodriguez 2019, HEAD-QA: four options (English split)"),
        ChanceLevel("medmcqa", 4, "Pal et al. 2022, MedMCQA: four options per question"),
        ChanceLevel("pubmedqa", 3, "Jin et al. 2019, PubMedQA: yes, no or maybe"),
        ChanceLevel("naturalquestions", 0, "Kwiatkowski et al. 2019, Natural Questions (open): free-form answers"),
        ChanceLevel("squad", 0, "Rajpurkar et al. 2016, SQuAD: free-form answer spans"),
        ChanceLevel("drop", 0, "Dua et al. 2019, DROP: free-form answers"),
    ]
}
"""Chance levels of common evaluation tasks beyond the released ones, by canonical name.

For the released benchmarks :data:`BENCHMARKS` holds chance and size; a ``chance``
column in a runs file overrides either table. ``n_items`` is not listed here: splits
and subsets differ between evaluation suites, so give it in the file."""

ALIASES: dict[str, str] = {
    "arc_e": "arc_easy", "arceasy": "arc_easy", "arc_c": "arc_challenge", "arcchallenge": "arc_challenge",
    "hella_swag": "hellaswag", "lambada": "lambada_openai",
    "mmlu_0shot": "mmlu", "mmlu_5shot": "mmlu", "winogrande_xl": "winogrande", "piqa_val": "piqa",
    "triviaqa": "triviaqa_1shot", "webqs": "webqs_1shot", "webquestions": "webqs_1shot",
    "gsm8k": "gsm8k_cot_llama", "humaneval": "humaneval-py",
    "obqa": "openbookqa", "openbook_qa": "openbookqa", "csqa": "commonsense_qa", "commonsenseqa": "commonsense_qa",
    "social_iqa": "siqa", "socialiqa": "siqa", "wsc273": "winograd", "winograd_wsc": "winograd",
    "math_qa": "mathqa", "super_glue_boolq": "boolq", "xstorycloze_en": "storycloze",
    "story_cloze": "storycloze", "head_qa": "headqa", "nq_open": "naturalquestions",
    "natural_questions": "naturalquestions",
}
"""Common alternative spellings of task names, mapped to their canonical name.

``lambada`` is LAMBADA as OpenAI's GPT-2 release scores it (the harness's default);
``gsm8k`` maps to the released chain-of-thought variant for its chance level (0) only,
as ``n_items`` is the same test split."""


def canonical_name(name: str) -> str:
    """The canonical name of a task: lower case, spaces and hyphens as ``_``, aliases resolved.

    Released names are returned unchanged (``humaneval-py`` keeps its hyphen).
    """
    if name in BENCHMARKS or name in CHANCE_LEVELS:
        return name
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def known_chance(name: str) -> float:
    """Chance accuracy of a released benchmark or a task of :data:`CHANCE_LEVELS` (NaN if unknown)."""
    canonical = canonical_name(name)
    if canonical in BENCHMARKS:
        return BENCHMARKS[canonical].chance
    if canonical in CHANCE_LEVELS:
        return CHANCE_LEVELS[canonical].chance
    return float("nan")


def known_n_items(name: str) -> float:
    """Number of items of a released benchmark (NaN otherwise: splits differ between suites)."""
    canonical = canonical_name(name)
    return float(BENCHMARKS[canonical].n_items) if canonical in BENCHMARKS else float("nan")


def chance_level_table() -> pd.DataFrame:
    """Every known chance level, released benchmarks first: options, chance, source, aliases."""
    aliases = pd.Series(ALIASES).groupby(pd.Series(ALIASES).to_numpy()).apply(lambda s: ", ".join(sorted(s.index)))
    rows = [
        {"name": b.name, "n_options": round(1 / b.chance) if b.chance else 0, "chance": b.chance,
         "source": "released benchmark (scalelib.data.benchmark_info.BENCHMARKS)"}
        for b in BENCHMARKS.values()
    ] + [{"name": c.name, "n_options": c.n_options, "chance": c.chance, "source": c.source}
         for c in CHANCE_LEVELS.values()]
    table = pd.DataFrame(rows).set_index("name")
    table["aliases"] = aliases.reindex(table.index).fillna("")
    return table
