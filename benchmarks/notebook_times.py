"""Execution time of every notebook of the book, for the execution-status page.

Executes each notebook listed in ``_toc.yml`` once, in reading order and in a fresh
kernel (nbclient, the executor nbval and Jupyter Book use), without changing the file,
and writes the seconds per notebook to ``benchmarks/notebook_times.csv``, which
``chapters/execution.md`` shows. Prints the same table and the total. Re-run it after
changing a chapter; the page says on which machine and when it was measured.

Usage::

    python benchmarks/notebook_times.py                         # every notebook
    python benchmarks/notebook_times.py 02_direct_laws ...      # re-measure some, keep the rest
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "benchmarks" / "notebook_times.csv"


def toc_notebooks() -> list[Path]:
    """The notebooks of ``_toc.yml``, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries: list[str] = []

    def walk(items: list[dict]) -> None:
        for item in items:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("sections", []))

    walk(toc.get("chapters", []))
    return [ROOT / f"{entry}.ipynb" for entry in entries if (ROOT / f"{entry}.ipynb").exists()]


def execution_seconds(path: Path) -> float:
    """Seconds to execute ``path`` in a fresh kernel, from the chapters folder."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def main(only: list[str]) -> None:
    """Measure every notebook of ``_toc.yml``, or only those named (the others keep their row)."""
    previous = pd.read_csv(OUTPUT).set_index("notebook") if only and OUTPUT.exists() else None
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    stamp = f"{datetime.date.today().isoformat()}, {machine}"
    rows = []
    for path in toc_notebooks():
        if only and path.stem not in only and previous is not None and path.stem in previous.index:
            rows.append({"notebook": path.stem, **previous.loc[path.stem].to_dict()})
            continue
        seconds = execution_seconds(path)
        rows.append({"notebook": path.stem, "seconds": round(seconds, 1), "measured": stamp})
        print(f"{path.stem:<40} {seconds:7.1f} s", flush=True)
    table = pd.DataFrame(rows)[["notebook", "seconds", "measured"]]
    print(f"{'all notebooks':<40} {table['seconds'].sum():7.1f} s")
    table.to_csv(OUTPUT, index=False)
    print(f"written to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
