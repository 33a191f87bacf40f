"""Open every page of the built book in headless Chromium, offline.

Fails if a figure image does not load, MathJax leaves raw TeX, the console shows an
error, or a page asks for anything outside the built book (readers without internet
must get the same pages). Saves one full-page screenshot per page in _build/screenshots/
(of the first screen only for a page taller than MAX_SCREENSHOT_HEIGHT, such as the
library reference: such a screenshot takes half a minute and shows nothing one can read).

At the theme's default layout in a 1280-pixel-wide window it also fails if any code block,
printed output or table is wider than the text column (a reader would need a scroll bar),
if a figure has no caption, or if a ``{glue:...}`` role was left unrendered in the prose.

Also fails if any link (``a[href]``) on any built page leads to a host the book does not
control, so no button or link sends a reader to a 404 (e.g. a repository that does not
exist). Allowed: links within the served book (relative links and ``#`` anchors resolve to
the localhost book URL), and the outbound links printed inside a bibliography entry
(``role="doc-biblioentry"``: a DOI or URL that references.bib gives for a cited work). The
theme's footer is not exempt; it links nowhere outside the book. Hosts that the repository
buttons link to once the book is published (see the repository block in _config.yml) go
into PUBLISHED_HOSTS, deliberately, by whoever publishes it.
Chromium is Debian's package; it is installed here if absent (needs apt and root).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
MAX_SCREENSHOT_HEIGHT = 40_000
"""Pixels: the longest chapter is about 28,000 px tall at 1280 px; the reference page is 200,000."""

# Hosts the book's links may point at besides the book itself: empty while the book has no
# public repository. Whoever publishes it adds the repository's host (and mybinder.org,
# colab.research.google.com if the launch buttons are switched on) when switching the
# buttons on in _config.yml.
PUBLISHED_HOSTS: frozenset[str] = frozenset()

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        install = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, text=True)
        path = shutil.which("chromium")
        if path is None:
            pytest.fail(f"Debian's chromium is needed and could not be installed:\n{install.stderr[-2000:]}")
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        """Keep the test log free of one line per request."""


@pytest.fixture(scope="module")
def book_url(built_html) -> Iterator[str]:
    """Serve the built book on localhost for the duration of the module."""
    handler = functools.partial(_QuietHandler, directory=str(built_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


_BROKEN_IMAGES = "els => els.filter(e => !e.complete || e.naturalWidth === 0).map(e => e.getAttribute('src'))"
_UNRENDERED_MATH = """() => Array.from(document.querySelectorAll('.math'))
    .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))"""
# Code blocks and outputs scroll inside their own box; tables spill past the article.
_OVERFLOWING = """() => {
    const column = document.querySelector('main article').getBoundingClientRect().right;
    return Array.from(document.querySelectorAll('main pre, main table'))
        .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > column + 1)
        .map(e => e.tagName.toLowerCase() + ': ' + e.textContent.replace(/\\s+/g, ' ').trim().slice(0, 70));
}"""
_UNCAPTIONED = """els => els.filter(e => !(e.closest('figure') && e.closest('figure').querySelector('figcaption')))
    .map(e => e.getAttribute('src'))"""
# Text of the prose only: a glue role quoted in code or in a docstring's literal is not a leftover.
_RAW_GLUE = """() => {
    const walker = document.createTreeWalker(document.querySelector('main article'), NodeFilter.SHOW_TEXT);
    const left = [];
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (node.textContent.includes('{glue') && !node.parentElement.closest('pre, code')) {
            left.push(node.textContent.trim().slice(0, 70));
        }
    }
    return left;
}"""


def test_every_page_renders_offline(book_url, browser, toc_pages):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for entry, source in toc_pages.items():
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        outside: list[str] = []
        page.on("console", lambda message, errors=errors: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))

        def block_outside(route, outside=outside):
            outside.append(route.request.url)
            route.abort()

        page.route(lambda url: not url.startswith(book_url), block_outside)
        page.goto(f"{book_url}/{entry}.html", wait_until="load")
        if page.locator(".math").count():
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise")
        broken = page.eval_on_selector_all("img", _BROKEN_IMAGES)
        raw_math = page.evaluate(_UNRENDERED_MATH)
        figures = page.eval_on_selector_all("main img", "els => els.length")
        overflowing = page.evaluate(_OVERFLOWING)
        uncaptioned = page.eval_on_selector_all("main article img", _UNCAPTIONED)
        raw_glue = page.evaluate(_RAW_GLUE)
        full_page = page.evaluate("() => document.body.scrollHeight") <= MAX_SCREENSHOT_HEIGHT
        page.screenshot(path=str(SCREENSHOTS / f"{Path(entry).name}.png"), full_page=full_page)
        page.close()
        problems += [f"{entry}: image did not load: {src}" for src in broken]
        problems += [f"{entry}: MathJax left raw TeX: {tex!r}" for tex in raw_math]
        problems += [f"{entry}: console error: {text}" for text in errors]
        problems += [f"{entry}: asked for a resource outside the book: {url}" for url in outside]
        problems += [f"{entry}: wider than the text column at 1280 px: {text}" for text in overflowing]
        problems += [f"{entry}: figure without a caption: {src}" for src in uncaptioned]
        problems += [f"{entry}: glue role left in the prose: {text}" for text in raw_glue]
        if source.suffix == ".ipynb" and figures == 0:
            problems.append(f"{entry}: notebook page shows no figure")
    assert problems == [], "\n".join(problems)
    assert len(list(SCREENSHOTS.glob("*.png"))) >= len(toc_pages)


_LINKS = """els => els.map(a => ({raw: a.getAttribute('href'), url: a.href,
    cited: a.closest('[role="doc-biblioentry"]') !== null}))"""


def _built_pages(built_html: Path) -> list[str]:
    """Every HTML page of the built book (not the theme's template fragments in _static)."""
    return sorted(str(p.relative_to(built_html)) for p in built_html.rglob("*.html") if "_static" not in p.parts)


def _leaves_the_book(link: dict, book_url: str) -> bool:
    if link["raw"].startswith("#") or link["url"] == book_url or link["url"].startswith(f"{book_url}/"):
        return False
    if link["cited"] and urlsplit(link["url"]).scheme == "https":
        return False
    return urlsplit(link["url"]).hostname not in PUBLISHED_HOSTS


def test_no_link_leads_outside_the_book(book_url, browser, built_html):
    pages = _built_pages(built_html)
    assert "chapters/intro.html" in pages and "genindex.html" in pages, pages
    outside: list[str] = []
    for name in pages:
        page = browser.new_page()
        page.route(lambda url: not url.startswith(book_url), lambda route: route.abort())
        page.goto(f"{book_url}/{name}", wait_until="load")
        page.wait_for_load_state("networkidle")  # index.html redirects; links added by scripts are in
        links = page.eval_on_selector_all("a[href]", _LINKS)
        page.close()
        outside += [f"{name}: {link['raw']}" for link in links if _leaves_the_book(link, book_url)]
    assert outside == [], "links to hosts the book does not control:\n" + "\n".join(outside)
