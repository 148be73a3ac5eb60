"""Static rendering of figures: one headless Chromium (kaleido) kept open and shared, and PDF printing."""
from __future__ import annotations

import asyncio
import atexit
import base64
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from analysis.figures.base import EMPTY_TOPOLOGY_URL

log = logging.getLogger("analysis.export")


class ExportUnavailable(RuntimeError):
    """Static export needs a Chromium browser; this says which one was looked for and how to get one."""


# --------------------------------------------------------------------------------------------------
# Rendering: one headless Chromium kept open (kaleido), shared by every figure of a run

def browser_path() -> str:
    """The Chromium to use: $BROWSER_PATH, then chromium on PATH, then /usr/bin/chromium."""
    wanted = os.environ.get("BROWSER_PATH")
    if wanted and not os.access(wanted, os.X_OK):
        log.warning("BROWSER_PATH=%s is not an executable; looking for chromium instead", wanted)
    candidates = [wanted, shutil.which("chromium"), "/usr/bin/chromium",
                  shutil.which("chromium-browser"), shutil.which("google-chrome")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise ExportUnavailable(
        "Static export (PNG/SVG/PDF) needs Chromium and none was found. Install it "
        "(`apt-get install chromium`) or set BROWSER_PATH to a Chrome or Chromium executable.")


RELOAD_EVERY = 25  # renders between page reloads of a kaleido tab (kaleido itself reloads after every one)


def _session_class(kaleido: Any) -> type:
    """kaleido.Kaleido, but a tab is reloaded every RELOAD_EVERY renders instead of after each one.

    The reload (re-parsing plotly.js) costs ~4x the render itself; the images are byte-identical either
    way (tests/test_export.py checks). Falls back to plain Kaleido if its internals change.
    """
    base = kaleido.Kaleido
    if not hasattr(base, "_return_kaleido_tab"):
        return base

    class Session(base):  # type: ignore[misc, valid-type]
        async def _return_kaleido_tab(self, tab: Any) -> None:
            uses = getattr(self, "_uses", {})
            self._uses = uses
            uses[id(tab)] = uses.get(id(tab), 0) + 1
            if uses[id(tab)] >= RELOAD_EVERY:
                uses[id(tab)] = 0
                await tab.reload()
            await self.tabs_ready.put(tab)

    return Session


class Renderer:
    """A kaleido session (one headless Chromium, `tabs` pages) on its own thread, safe to share.

    Starting Chromium costs ~2 s; a figure then costs ~0.1-0.3 s. Use one Renderer for a whole run
    (`with Renderer() as r:`), or `shared_renderer()`, which stays open until the interpreter exits.
    """

    def __init__(self, *, tabs: int = 2, timeout: float = 120.0) -> None:
        self.tabs = tabs
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Renderer:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._kaleido is not None

    def open(self) -> Renderer:
        with self._lock:
            if self._kaleido is not None:
                return self
            path = browser_path()  # passed to kaleido explicitly: it never downloads a browser
            import kaleido

            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="kaleido", daemon=True)
            thread.start()

            async def start() -> Any:
                k = _session_class(kaleido)(n=self.tabs, timeout=self.timeout, mathjax=False, path=path)
                await k.open()
                return k

            try:
                self._kaleido = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=120)
            except Exception as error:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=5)
                raise ExportUnavailable(f"Could not start Chromium at {path} for static export: {error}") from error
            self._loop, self._thread = loop, thread
            log.debug("kaleido renderer open (%s tabs)", self.tabs)
            return self

    def close(self) -> None:
        with self._lock:
            if self._kaleido is None or self._loop is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._kaleido.close(), self._loop).result(timeout=30)
            except Exception:  # noqa: BLE001 - closing a dead browser must not mask the real error
                log.warning("kaleido did not close cleanly", exc_info=True)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._kaleido = self._loop = self._thread = None

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        if self._kaleido is None:
            self.open()
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)

    def render_many(self, jobs: Sequence[tuple[go.Figure | dict, dict]]) -> list[bytes]:
        """Render (figure, opts) pairs concurrently on the session's tabs; opts: format, width, height, scale.

        If the browser died (crash, killed), it is restarted once and the batch tried again.
        """
        if not jobs:
            return []
        specs = [(f.to_dict() if isinstance(f, go.Figure) else f, o) for f, o in jobs]
        try:
            return self._render(specs)
        except ExportUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - one restart, then the error goes to the caller
            log.warning("static export failed (%s); restarting Chromium once", error)
            self.close()
            return self._render(specs)

    def _render(self, specs: list[tuple[dict, dict]]) -> list[bytes]:
        if self._kaleido is None:
            self.open()
        k = self._kaleido

        async def run() -> list[bytes]:
            return list(await asyncio.gather(*(k.calc_fig(f, opts=o, topojson=EMPTY_TOPOLOGY_URL) for f, o in specs)))

        return self._run(run(), timeout=self.timeout * max(1, len(specs)))

    def render(self, fig: go.Figure | dict, **opts: Any) -> bytes:
        return self.render_many([(fig, opts)])[0]

    def print_pdf(self, html_path: Path) -> bytes:
        """Print a local HTML page to PDF in this session's Chromium (CSS @page size, no header/footer)."""
        if self._kaleido is None:
            self.open()
        k = self._kaleido
        url = Path(html_path).resolve().as_uri()

        async def run() -> bytes:
            tab = await k.create_tab(url="")
            try:
                await tab.send_command("Page.enable")
                loaded = tab.subscribe_once("Page.loadEventFired")
                await tab.send_command("Page.navigate", params={"url": url})
                await asyncio.wait_for(loaded, self.timeout)
                reply = await tab.send_command("Page.printToPDF", params={
                    "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
                    "generateDocumentOutline": True, "generateTaggedPDF": True})
                if "error" in reply:
                    raise ExportUnavailable(f"Chromium could not print {html_path}: {reply['error']}")
                return base64.b64decode(reply["result"]["data"])
            finally:
                await k.close_tab(tab.target_id)

        return self._run(run(), timeout=self.timeout * 2)


_shared: Renderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> Renderer:
    """One process-wide Renderer (opened on first use, closed at exit): what the dashboard uses."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Renderer()
            atexit.register(_shared.close)
        return _shared.open()


def print_pdf_cli(html_path: Path, pdf_path: Path, *, timeout: float = 120.0) -> None:
    """Print a local HTML page with a one-off headless Chromium process (no session needed)."""
    with tempfile.TemporaryDirectory(prefix="stopsearch-chromium-") as profile:
        cmd = [browser_path(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
               f"--print-to-pdf={Path(pdf_path).resolve()}", Path(html_path).resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0 or not Path(pdf_path).is_file():
        raise ExportUnavailable(f"Chromium could not print {html_path} (exit {done.returncode}): "
                                f"{done.stderr.decode(errors='replace')[-400:]}")
