"""The library reference page documents every module of scalelib, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "chapters" / "reference.md"


def test_every_module_is_on_the_reference_page(toc_pages):
    assert "chapters/reference" in toc_pages, "the reference page is not in _toc.yml"
    documented = re.findall(r"^\.\. automodule:: (scalelib\.[\w.]+)$", REFERENCE.read_text(), flags=re.MULTILINE)
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "scalelib").rglob("*.py")
        if path.stem != "__main__"
    } - {"scalelib"}
    assert len(documented) == len(set(documented)), "a module is documented twice"
    assert set(documented) == modules, (
        f"missing from chapters/reference.md: {sorted(modules - set(documented))}; "
        f"not modules: {sorted(set(documented) - modules)}"
    )
