"""Write ``example_runs_multi.csv``, a derived example input, from the released runs.

Run from the repository root: ``.venv/bin/python data/make_example_runs_multi.py``.
Every value is copied from the loader (``scalelib.data.released``); nothing is rounded, smoothed
or dropped. ``data/README.md`` documents the file; ``SHA256SUMS`` pins it.
"""

from pathlib import Path

import pandas as pd

from scalelib.data import released as data

BENCHMARKS = ["arc_easy", "hellaswag", "piqa", "lambada_openai", "mmlu"]
ALIASES = {"lambada_openai": "lambada"}
"""Written under a common alias, as other evaluation suites name it."""
OUTPUT = Path(__file__).resolve().parent / "example_runs_multi.csv"


def example_runs_multi() -> pd.DataFrame:
    """DCLM at every released ratio and C4 at 20, default metrics, with the C4 validation loss."""
    scores = data.accuracy_frame(["dclm", "c4"], tpr=None, benchmarks=BENCHMARKS)
    losses = data.load_runs()[["mixture", "run", "loss_c4"]]
    frame = scores.merge(losses, on=["mixture", "run"], how="left", validate="many_to_one")
    frame = frame.assign(benchmark=frame["benchmark"].replace(ALIASES))
    frame = frame.sort_values(["mixture", "tpr", "benchmark", "flops"], kind="stable")
    return frame.rename(columns={"value": "accuracy", "loss_c4": "val_loss"})[
        ["run", "mixture", "tpr", "params", "tokens", "benchmark", "metric", "accuracy", "val_loss"]
    ]


if __name__ == "__main__":
    example_runs_multi().to_csv(OUTPUT, index=False, float_format=None)
    print(f"wrote {OUTPUT}")
