"""Open every page of the built book in headless Chromium, offline.

Each built HTML page is opened once, in one browser tab with a 1280 x 900 window, and
checked there; the work is done once, by the ``visits`` fixture, and the two tests below
read its findings.

Every page of the table of contents fails if a figure image does not load, MathJax leaves
raw TeX, the console shows an error, or the page asks for anything outside the built book
(readers without internet must get the same pages; Chromium is offline here, see
CHROMIUM_FLAGS). A screenshot of the first screen of each such page (1280 x 900 px, what a
reader sees on opening it) is saved in _build/screenshots/, not of the whole page: one of a
28,000-pixel chapter took 2 to 3 seconds.

At the theme's default layout in a 1280-pixel-wide window it also fails if any code block,
printed output or table is wider than the text column (a reader would need a scroll bar),
if a figure has no caption, if a ``{glue:...}`` role was left unrendered in the prose, or if
a notebook's page shows no figure.

Also fails if any link (``a[href]``) on any built page (also genindex, search, the module
index, and the redirect of index.html) leads to a host the book does not control, so no
button or link sends a reader to a 404 (e.g. a repository that does not exist). Allowed:
links within the served book (relative links and ``#`` anchors resolve to the localhost
book URL), and the outbound links printed inside a bibliography entry
(``role="doc-biblioentry"``: a DOI or URL that references.bib gives for a cited work). The
theme's footer is not exempt; it links nowhere outside the book. Hosts that the repository
buttons link to once the book is published (see the repository block in _config.yml) go
into PUBLISHED_HOSTS, deliberately, by whoever publishes it.

Pages are read once the browser's ``load`` event has fired (every image and script of the
page is in; no script of the theme adds a link later) and, where the page has math, once
MathJax's startup promise has resolved: no waiting for the network to be idle.
Chromium is Debian's package; it is installed here if absent (needs apt and root).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
WINDOW = {"width": 1280, "height": 900}

# Hosts the book's links may point at besides the book itself: empty while the book has no
# public repository. Whoever publishes it adds the repository's host (and mybinder.org,
# colab.research.google.com if the launch buttons are switched on) when switching the
# buttons on in _config.yml.
PUBLISHED_HOSTS: frozenset[str] = frozenset()

# Offline: every request that is not for the book (served on 127.0.0.1, which Chromium never
# sends through a proxy) goes to a proxy that does not exist and fails at once. The pages
# record such requests (see ``visits``); no route intercepts them, since Playwright turns
# the browser's HTTP cache off while any route is set, and every page would then fetch
# and compile the theme's 3 MB of scripts anew.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--proxy-server=http://127.0.0.1:9",
]


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        install = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, text=True,
                                 check=False)
        path = shutil.which("chromium")
        if path is None:
            pytest.fail(f"Debian's chromium is needed and could not be installed:\n{install.stderr[-2000:]}")
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        """Keep the test log free of one line per request."""

    def end_headers(self) -> None:
        """Let the browser cache the theme's scripts, styles and fonts across the pages."""
        self.send_header("Cache-Control", "max-age=3600")
        super().end_headers()


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
_LINKS = """els => els.map(a => ({raw: a.getAttribute('href'), url: a.href,
    cited: a.closest('[role="doc-biblioentry"]') !== null}))"""
# All the render checks in one call to the page (each call costs a round trip).
_RENDER_CHECKS = f"""() => {{
    const all = selector => Array.from(document.querySelectorAll(selector));
    return {{
        broken: ({_BROKEN_IMAGES})(all('img')),
        rawMath: ({_UNRENDERED_MATH})(),
        figures: all('main img').length,
        overflowing: ({_OVERFLOWING})(),
        uncaptioned: ({_UNCAPTIONED})(all('main article img')),
        rawGlue: ({_RAW_GLUE})(),
    }};
}}"""


def _built_pages(built_html: Path) -> list[str]:
    """Every HTML page of the built book (not the theme's template fragments in _static)."""
    return sorted(str(p.relative_to(built_html)) for p in built_html.rglob("*.html") if "_static" not in p.parts)


class _RefreshTarget(HTMLParser):
    """The URL of a ``<meta http-equiv="Refresh" content="0; url=...">`` (index.html's redirect)."""

    def __init__(self) -> None:
        super().__init__()
        self.target: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            found = re.search(r"url\s*=\s*['\"]?([^'\"]+)", values.get("content", ""), re.IGNORECASE)
            self.target = found.group(1).strip() if found else None


def _refresh_target(html_file: Path) -> str | None:
    parser = _RefreshTarget()
    parser.feed(html_file.read_text(encoding="utf-8", errors="replace"))
    return parser.target


def _leaves_the_book(link: dict, book_url: str) -> bool:
    if link["raw"].startswith("#") or link["url"] == book_url or link["url"].startswith(f"{book_url}/"):
        return False
    if link["cited"] and urlsplit(link["url"]).scheme == "https":
        return False
    return urlsplit(link["url"]).hostname not in PUBLISHED_HOSTS


@dataclasses.dataclass
class _Visit:
    links: list[dict]
    """Every ``a[href]`` of the page (and the target of its meta refresh, if it has one)."""
    problems: list[str]
    """What the page's render checks found (table-of-contents pages only)."""


def _render_problems(page, entry: str, source: Path, errors: list[str], outside: list[str]) -> list[str]:
    """Run the render checks on a loaded page of the table of contents and save its screenshot."""
    if page.locator(".math").count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    found = page.evaluate(_RENDER_CHECKS)
    broken, raw_math, figures = found["broken"], found["rawMath"], found["figures"]
    overflowing, uncaptioned, raw_glue = found["overflowing"], found["uncaptioned"], found["rawGlue"]
    page.screenshot(path=str(SCREENSHOTS / f"{Path(entry).name}.png"))
    problems = [f"{entry}: image did not load: {src}" for src in broken]
    problems += [f"{entry}: MathJax left raw TeX: {tex!r}" for tex in raw_math]
    problems += [f"{entry}: console error: {text}" for text in errors]
    problems += [f"{entry}: asked for a resource outside the book: {url}" for url in outside]
    problems += [f"{entry}: wider than the text column at 1280 px: {text}" for text in overflowing]
    problems += [f"{entry}: figure without a caption: {src}" for src in uncaptioned]
    problems += [f"{entry}: glue role left in the prose: {text}" for text in raw_glue]
    if source.suffix == ".ipynb" and figures == 0:
        problems.append(f"{entry}: notebook page shows no figure")
    return problems


@pytest.fixture(scope="module")
def visits(book_url, browser, built_html, toc_pages) -> dict[str, _Visit]:
    """Open each built page once, in one tab, and record its links and (for the pages of the
    table of contents) the render checks' findings."""
    pages = _built_pages(built_html)
    toc_html = {f"{entry}.html": (entry, source) for entry, source in toc_pages.items()}
    assert set(toc_html) <= set(pages), f"not built: {sorted(set(toc_html) - set(pages))}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=WINDOW)
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    # Chromium asks every new site for /favicon.ico (the book has none) and logs the 404 as an
    # error of whichever page is open then; no page of the book asks for it.
    favicon = f"{book_url}/favicon.ico"
    page.on("console", lambda message: message.type == "error" and message.location.get("url") != favicon
            and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: request.url.startswith(f"{book_url}/") or outside.append(request.url))
    found: dict[str, _Visit] = {}
    for name in pages:
        url = f"{book_url}/{name}"
        target = _refresh_target(built_html / name)
        if target is not None:  # index.html: its redirect counts as a link; read the page it lands on
            links = [{"raw": target, "url": urljoin(url, target), "cited": False}]
            if links[0]["url"].startswith(f"{book_url}/"):  # (one out of the book would only fail, offline)
                page.goto(url, wait_until="load")
                page.wait_for_url(links[0]["url"], wait_until="load")
                links += page.eval_on_selector_all("a[href]", _LINKS)
            found[name] = _Visit(links, [])
            continue
        errors.clear()
        outside.clear()
        page.goto(url, wait_until="load")
        links = page.eval_on_selector_all("a[href]", _LINKS)
        problems = _render_problems(page, *toc_html[name], errors, outside) if name in toc_html else []
        found[name] = _Visit(links, problems)
    context.close()
    return found


def test_every_page_renders_offline(visits, toc_pages):
    problems = [problem for visit in visits.values() for problem in visit.problems]
    assert problems == [], "\n".join(problems)
    assert {f"{Path(entry).name}.png" for entry in toc_pages} <= {p.name for p in SCREENSHOTS.glob("*.png")}


def test_no_link_leads_outside_the_book(visits, book_url):
    assert "chapters/intro.html" in visits and "genindex.html" in visits, list(visits)
    outside = [f"{name}: {link['raw']}" for name, visit in visits.items()
               for link in visit.links if _leaves_the_book(link, book_url)]
    assert outside == [], "links to hosts the book does not control:\n" + "\n".join(outside)


def test_link_and_redirect_helpers(tmp_path):
    """The helpers the link check relies on (no browser needed)."""
    book = "http://127.0.0.1:8000"

    def link(raw: str, cited: bool = False) -> dict:
        return {"raw": raw, "url": urljoin(f"{book}/chapters/intro.html", raw), "cited": cited}

    for inside in ("#top", "01_data.html#figure", "../genindex.html", f"{book}/", book):
        assert not _leaves_the_book(link(inside), book), inside
    for leaving in ("https://github.com/someone/repo", "http://127.0.0.1:8000.example.org/",
                    "http://127.0.0.1:8001/", "mailto:someone@example.org", "//example.org/x"):
        assert _leaves_the_book(link(leaving), book), leaving
    assert not _leaves_the_book(link("https://doi.org/10.1000/1", cited=True), book)
    assert _leaves_the_book(link("http://doi.org/10.1000/1", cited=True), book)
    assert _leaves_the_book(link("https://doi.org/10.1000/1"), book)

    page = tmp_path / "index.html"
    page.write_text('<meta http-equiv="Refresh" content="0; url=chapters/intro.html" />')
    assert _refresh_target(page) == "chapters/intro.html"
    page.write_text("<META HTTP-EQUIV='refresh' CONTENT=\"5;URL='../x.html'\">")
    assert _refresh_target(page) == "../x.html"
    page.write_text('<html><head><meta charset="utf-8"></head><body><a href="x.html">x</a></body></html>')
    assert _refresh_target(page) is None
