"""fetch-use-of-force against a local HTTP server on 127.0.0.1 (real sockets): success, 404, retry, broken transfer."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from data.use_of_force.commands import fetch_main
from data.use_of_force.store import UseOfForceStore
from tests.test_use_of_force_records import write_open_data

PROJECT = Path(__file__).resolve().parents[1]


class FileServer:
    """Serves scripted answers per path: ('ok', body), ('status', code) or ('truncate', body)."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[tuple[str, object]]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                server.requests.append(self.path)
                script = server.scripts.get(self.path, [("status", 404)])
                kind, value = script.pop(0) if len(script) > 1 else script[0]
                if kind == "status":
                    body = b"<html>error</html>"
                    self.send_response(int(value))  # type: ignore[arg-type]
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                body = bytes(value)  # type: ignore[arg-type]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if kind == "truncate":  # promise the whole file, send half, hang up
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server() -> Iterator[FileServer]:
    with FileServer() as running:
        yield running


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_open_data(tmp_path_factory.mktemp("od") / "open.xlsx").read_bytes()


def fetch(server: FileServer, store: Path, path: str, *extra: str) -> int:
    return fetch_main(["--years", "2022/23", "--url", f"2022/23={server.url}{path}", "--store", str(store),
                       "--backoff", "0", "--attempts", "3", "--timeout", "10", *extra])


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def test_success_stores_every_year_with_manifest(server: FileServer, workbook: bytes, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    server.scripts["/od-2023.xlsx"] = [("ok", workbook)]
    assert fetch(server, tmp_path, "/od-2023.xlsx") == 0
    store = UseOfForceStore(tmp_path)
    ok = store.entry("home_office_open_data", "2022/23")
    assert ok is not None and ok.status == "ok" and ok.rows == 79 and ok.source.endswith("/od-2023.xlsx")
    assert store.entry("home_office_open_data", "2021/22").rows == 3  # the workbook's other sheet
    assert (tmp_path / "use_of_force" / "raw" / "od-2023.xlsx").read_bytes() == workbook
    assert "1 of 1 year(s) stored" in capsys.readouterr().out
    assert not [p for p in (tmp_path / "use_of_force").rglob("*") if p.name.startswith(".")]


def test_404_is_recorded_as_failed_without_retrying(server: FileServer, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert fetch(server, tmp_path, "/missing.xlsx") == 1
    entry = UseOfForceStore(tmp_path).entry("home_office_open_data", "2022/23")
    assert entry is not None and entry.status == "failed" and "HTTP 404" in entry.reason
    assert server.requests == ["/missing.xlsx"]
    assert "failed" in capsys.readouterr().out


def test_500_then_success(server: FileServer, workbook: bytes, tmp_path: Path) -> None:
    server.scripts["/flaky.xlsx"] = [("status", 500), ("ok", workbook)]
    assert fetch(server, tmp_path, "/flaky.xlsx") == 0
    assert server.requests == ["/flaky.xlsx", "/flaky.xlsx"]
    assert UseOfForceStore(tmp_path).entry("home_office_open_data", "2022/23").status == "ok"


def test_half_finished_download_leaves_the_store_unchanged(server: FileServer, workbook: bytes,
                                                           tmp_path: Path) -> None:
    server.scripts["/od.xlsx"] = [("ok", workbook)]
    assert fetch(server, tmp_path, "/od.xlsx") == 0
    before = snapshot(tmp_path / "use_of_force")
    server.scripts["/od.xlsx"] = [("truncate", workbook)]
    server.requests.clear()
    assert fetch(server, tmp_path, "/od.xlsx") == 1
    assert len(server.requests) == 3  # every attempt broke off
    assert snapshot(tmp_path / "use_of_force") == before  # no half file, nothing replaced, no temp left
    store = UseOfForceStore(tmp_path)
    entry = store.entry("home_office_open_data", "2022/23")
    assert entry.status == "failed" and entry.rows == 79 and entry.reason
    assert len(store.read("home_office_open_data", "2022/23", "reports")) == 79  # still readable


def test_half_finished_first_download_stores_nothing(server: FileServer, workbook: bytes, tmp_path: Path) -> None:
    server.scripts["/od.xlsx"] = [("truncate", workbook)]
    assert fetch(server, tmp_path, "/od.xlsx") == 1
    assert snapshot(tmp_path / "use_of_force") == {}
    assert UseOfForceStore(tmp_path).entry("home_office_open_data", "2022/23").status == "failed"


def test_a_page_that_is_not_the_file_is_a_clear_failure(server: FileServer, tmp_path: Path) -> None:
    server.scripts["/page.xlsx"] = [("ok", b"<html>GOV.UK</html>")]
    assert fetch(server, tmp_path, "/page.xlsx") == 1
    entry = UseOfForceStore(tmp_path).entry("home_office_open_data", "2022/23")
    assert entry.status == "failed" and "not a use-of-force file" in entry.reason


def test_no_address_for_a_year_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fetch_main(["--years", "2031/32", "--store", str(tmp_path)]) == 2
    assert "--url YEAR=URL" in capsys.readouterr().err


def test_through_the_data_command_line(server: FileServer, workbook: bytes, tmp_path: Path) -> None:
    server.scripts["/cli.xlsx"] = [("ok", workbook)]
    result = subprocess.run(
        [sys.executable, "-m", "data", "fetch-use-of-force", "--years", "2022/23", "--url",
         f"2022/23={server.url}/cli.xlsx", "--store", str(tmp_path), "--backoff", "0"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "2022/23: ok, 79 rows" in result.stdout
