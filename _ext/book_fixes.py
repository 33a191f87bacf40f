"""Sphinx extension: work around an upstream bug that puts a console error on every page.

Sphinx 7.3/7.4 registers an inline script added by an extension twice, once with
filename None and once with filename '' (``StandaloneHTMLBuilder.prepare_writing``).
sphinx-thebe adds such a script (``const THEBE_JS_URL = ...``), so every page declared
the same ``const`` twice and the browser logged "Identifier 'THEBE_JS_URL' has already
been declared". This keeps the first of scripts that are equal up to that difference.
Remove it when the book moves to a Sphinx without the bug (tests/test_browser.py tells).
"""

from __future__ import annotations

from typing import Any


def _drop_duplicate_scripts(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    unique = {}
    for script in context.get("script_files", []):
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        unique.setdefault(key, script)
    context["script_files"][:] = list(unique.values())


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
