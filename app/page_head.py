"""Plotly's script fetched and run while the first page loads, not after its first chart arrives.

Streamlit's page loads plotly.js (its PlotlyChart chunk, ~4.6 MB) when a run first sends a chart. Evaluating
it holds the browser's main thread for ~0.6 s (headless Chromium, Chrome's trace), and on a cold start that
came after the first page's run had ended: the chart was drawn last. `python -m app` serves Streamlit's own
static folder with one change to its index.html: a modulepreload link and a module script that import the
same chunk, at the same address the page's own import uses (so the browser loads and evaluates it once),
while the server imports and runs the first page. Measured with benchmarks/cold_start at ten national
years (11 starts each, interleaved): first page drawn 3.06 -> 2.69 s (bare page 1.91 s).

Streamlit has no setting for the page's head. Its static folder is found through
streamlit.file_util.get_static_dir, called once when the server is built: `serve_plotly_early` points it at
a folder of links to Streamlit's files beside the changed index.html. Whenever something is not as expected
(no chunk named in the main bundle, links not allowed), Streamlit's folder is served unchanged.
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)
MAIN_BUNDLE = re.compile(r'src="\./static/js/(index\.[A-Za-z0-9_-]+\.js)"')
PLOTLY_CHUNK = re.compile(r"PlotlyChart\.[A-Za-z0-9_-]+\.js")


def plotly_chunk(static: Path) -> str | None:
    """The file name of the chunk holding plotly.js, as Streamlit's main bundle imports it (None: not found)."""
    index = (static / "index.html").read_text(encoding="utf-8")
    bundle = MAIN_BUNDLE.search(index)
    if bundle is None:
        return None
    found = PLOTLY_CHUNK.search((static / "static" / "js" / bundle.group(1)).read_text(encoding="utf-8"))
    if found is None or not (static / "static" / "js" / found.group(0)).is_file():
        return None
    return found.group(0)


def head_lines(chunk: str) -> str:
    """What goes at the end of the page's head: fetch and compile the chunk now, evaluate it once loaded."""
    address = f"./static/js/{chunk}"  # relative, as the page's own scripts: right under any base path
    return (f'<link rel="modulepreload" crossorigin href="{address}">'
            f'<script type="module">import("{address}").catch(() => {{}});</script>')


def early_static_folder(static: Path, into: Path) -> bool:
    """Fill `into` with links to every entry of Streamlit's `static` folder and an index.html that loads
    plotly at once. False when the chunk is not found or links cannot be made: `into` is then not to be served."""
    chunk = plotly_chunk(static)
    if chunk is None:
        return False
    index = (static / "index.html").read_text(encoding="utf-8")
    if "</head>" not in index:
        return False
    try:
        for entry in static.iterdir():
            if entry.name != "index.html":
                (into / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    except OSError:  # e.g. Windows without the right to make links
        return False
    (into / "index.html").write_text(index.replace("</head>", head_lines(chunk) + "</head>", 1), encoding="utf-8")
    return True


def serve_plotly_early() -> None:
    """Have the server about to start serve Streamlit's page with plotly loaded at once (call before it starts)."""
    from streamlit import file_util

    try:
        static = Path(file_util.get_static_dir())
        folder = Path(tempfile.mkdtemp(prefix="stopsearch-static-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        if early_static_folder(static, folder):
            file_util.get_static_dir = lambda: os.fspath(folder)
        else:
            log.info("Streamlit's page is served unchanged: plotly's chunk was not found in %s", static)
    except OSError as error:  # only speed: the page works the same without it
        log.warning("Streamlit's page is served unchanged (%s)", error)
