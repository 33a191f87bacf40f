"""Issue 13's target tables for the evidence-weighted forecaster (``scalelib.evaluation.auto_forecast``).

Prints

1. the paper's reference backtest (DCLM, tpr 20, metric ``acc``, fit C <= 1e21, forecast
   every run above): mean absolute error in points of the paper's Eq. 2 (as reported),
   the book's single laws, the naive baselines and ``auto``, per benchmark, with the
   verdict; the mean over the seven benchmarks;
2. the four splits of the book (DCLM 1e21, 1e22; C4 1e20, 1e21; default metrics; every
   headline benchmark; validation losses attached, for the two-stage candidate): per benchmark and per split (mean and median error), and the
   benchmarks any single law misses by more than 10 points;
3. coverage and mean width of the forecaster's 90% intervals over its forecast runs.

Usage::

    python benchmarks/auto_forecast.py            # all laws (BNSL is the slow one)
    python benchmarks/auto_forecast.py --no-bnsl  # without BNSL (its column "Eq. 1")
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from scalelib.data import released as data
from scalelib.evaluation.auto_backtest import (
    PAPER_REFERENCE_MAE,
    REFERENCE_BENCHMARKS,
    SINGLE_LAWS,
    compare_with_single_laws,
    interval_summary,
    large_misses,
    split_summary,
)
from scalelib.evaluation.baselines import BASELINES
from scalelib.data.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.book.compute_cuts import BOOK_CUTS
from scalelib.laws.registry import LAWS
from scalelib.evaluation.two_stage import merge_losses

CUTS = BOOK_CUTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-bnsl", action="store_true", help="leave BNSL out of the single laws")
    args = parser.parse_args()
    laws = [law for law in SINGLE_LAWS if not (args.no_bnsl and law == LAWS["bnsl"].title)]
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 200)
    start = time.perf_counter()

    reference = merge_losses(data.accuracy_frame("dclm", tpr=None, metric="acc",
                                                 benchmarks=[*REFERENCE_BENCHMARKS, "mmlu"]), data.load_runs())
    auto, table = compare_with_single_laws(reference, {"dclm": [1e21]}, laws=laws)
    table = table.set_index("benchmark")
    table.insert(0, "paper Eq. 2", pd.Series(PAPER_REFERENCE_MAE))
    seven = table.loc[list(REFERENCE_BENCHMARKS)]
    print("1. Reference backtest: DCLM, tpr 20, acc, fit C <= 1e21 (mean absolute error, points)")
    print(table.drop(columns=["mixture", "split"]).round(2).to_string())
    print("mean of 7: " + ", ".join(f"{column} {seven[column].mean():.2f}"
                                     for column in ["paper Eq. 2", *laws, *BASELINES, "auto"]))
    beaten = int((seven["auto"] < seven["paper Eq. 2"]).sum())
    print(f"auto forecasts {int((seven['verdict'] == 'forecast').sum())} of 7 and beats the paper's Eq. 2 on "
          f"{beaten} of 7; MMLU: {table.loc['mmlu', 'verdict']}")
    for benchmark, reason in auto.groupby("benchmark")["reason"].first().items():
        if reason:
            print(f"  {benchmark}: {reason}")

    scores = merge_losses(data.accuracy_frame(tpr=None, benchmarks=HEADLINE_BENCHMARKS), data.load_runs())
    auto, table = compare_with_single_laws(scores, CUTS, laws=laws)
    print("\n2. Four splits, every headline benchmark (mean absolute error, points; auto empty when unpredictable)")
    print(table.round(2).to_string(index=False))
    print("\nper split (single laws and baselines over every benchmark; auto and best single law over the "
          "benchmarks auto forecasts)")
    print(split_summary(table, laws=[*laws, *BASELINES]).round(2).to_string(index=False))
    print("\nbenchmarks a single law misses by more than 10 points: flagged, or forecast within 5?")
    print(large_misses(table).round(2).to_string(index=False))
    print("\nreasons of the refusals")
    refused = auto[auto["verdict"] == "unpredictable"].groupby(["mixture", "split", "benchmark"])["reason"].first()
    for (mixture, split, benchmark), reason in refused.items():
        print(f"  {mixture} {split} {benchmark}: {reason}")

    print("\n3. 90% intervals of auto over its forecast runs")
    print(interval_summary(auto).round(3).to_string(index=False))
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
