"""A local stand-in for data.police.uk's archive: an index page and real-layout monthly zips, on 127.0.0.1.

Zips are built at test time (never stored in the project) with the layout of the real ones: a zip named
for month Z holds, for each of the 36 months up to Z, `YYYY-MM/YYYY-MM-<force>-street.csv`,
`...-outcomes.csv` and `...-stop-and-search.csv` for each force with data. Stop-and-search CSVs come from
../shared/data/police_uk/archive (`shared_csvs`) or from `synthetic_csv` (for runs without ../shared);
street and outcomes files are filler of a chosen size, so a zip is much bigger than what a client needs.

The server honours Range requests (`ranges=True`) or ignores them (answers 200 with the whole file, as
some servers do); faults: `truncate` (promise the whole reply, send half, close), `stall` (send nothing
for `delay` seconds), `norange` (ignore the Range header of that request), and `bandwidth` (bytes per
second) for a slow link. Every request is logged with its
Range header and the bytes sent.

    with FakeArchive({"2019-12": members}) as archive:
        archive.url  # http://127.0.0.1:PORT/data/archive/ (the index page; zips are linked under /files/)
"""
from __future__ import annotations

import bisect
import contextlib
import csv
import io
import random
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from data.months import add_months, month_range

HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")
_ETHNICITY = ["White - English/Welsh/Scottish/Northern Irish/British", "Black/African/Caribbean/Black British - African",
              "Asian/Asian British - Pakistani", "Other ethnic group - Not stated", ""]
_ZIP_LOCK = threading.Lock()  # zipfile's ZIP64 limits are module globals (see build_zip(zip64=True))


def synthetic_csv(force: str, month: str, n: int | None = None) -> bytes:
    """A deterministic stop-and-search CSV in the bulk-download layout (CRLF; BTP's with quoted fields)."""
    rng = random.Random(f"{force}|{month}")
    n = rng.randint(0, 30) if n is None else n
    rows = [HEADER]
    # a quoted field sends a file down the import's one-file-at-a-time path: only BTP's files have one
    quoted = '"Community resolution"' if force == "btp" else "Community resolution"
    for _ in range(n):
        kind = rng.choice(["Person search", "Person search", "Person and Vehicle search", "Vehicle search"])
        person = kind != "Vehicle search"
        rows.append(",".join([
            kind, f"{month}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+00:00",
            "False", "", f"{51 + rng.random():.6f}", f"{-1 - rng.random():.6f}",
            rng.choice(["Male", "Female"]) if person else "", rng.choice(["18-24", "25-34", "over 34"]) if person else "",
            rng.choice(_ETHNICITY) if person else "", rng.choice(["White", "Black", "Asian", ""]) if person else "",
            "Misuse of Drugs Act 1971 (section 23)", "Controlled drugs",
            rng.choice(["A no further action disposal", "Arrest", quoted]), "", "False"]))
    return ("\r\n".join(rows) + "\r\n").encode()


def csv_records(payload: bytes) -> int:
    """The oracle: how many records the csv module reads from a member (BOM and line endings handled)."""
    text = payload.decode("utf-8-sig")
    return sum(1 for _ in csv.DictReader(io.StringIO(text, newline="")))


def shared_csvs(shared_dir: Path) -> dict[tuple[str, str], bytes]:
    """{(force, month): bytes} of every real stop-and-search CSV in ../shared's archive folder."""
    out = {}
    for path in sorted((shared_dir / "data" / "police_uk" / "archive").glob("*/*-stop-and-search.csv")):
        found = re.match(r"^(\d{4}-\d{2})-(.+)-stop-and-search\.csv$", path.name)
        if found:
            out[(found.group(2), found.group(1))] = path.read_bytes()
    return out


def _filler(name: str, size: int) -> bytes:
    rng = random.Random(name)
    lines, total = ["Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,Crime type"], 0
    while total < size:
        line = f"{rng.getrandbits(64):016x}{rng.getrandbits(64):016x},x,{rng.random():.6f},{rng.random():.6f},On or near"
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines).encode()


def build_zip(zip_month: str, csvs: Mapping[tuple[str, str], bytes], *, filler: int = 20_000,
              zip64: bool = False) -> bytes:
    """A real-layout archive zip named for `zip_month`: the 36 months up to it, of every force in `csvs`.

    zip64=True writes ZIP64 structures (extras, end record and locator) as a zip over 4 GB would have,
    by lowering zipfile's limits while this zip is written."""
    months = month_range(add_months(zip_month, -35), zip_month)
    forces = sorted({f for f, _ in csvs})
    buffer = io.BytesIO()
    with _ZIP_LOCK, _zip64_limits(zip64), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for month in months:
            for force in forces:
                if (force, month) not in csvs:
                    continue
                for kind in ("street", "outcomes"):
                    if filler:
                        name = f"{month}/{month}-{force}-{kind}.csv"
                        archive.writestr(name, _filler(name, filler))
                archive.writestr(f"{month}/{month}-{force}-stop-and-search.csv", csvs[(force, month)])
    return buffer.getvalue()


@contextlib.contextmanager
def _zip64_limits(on: bool) -> Iterator[None]:
    if not on:
        yield
        return
    saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 1000, 3
    try:
        yield
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved


def break_crc(payload: bytes, member: str) -> bytes:
    """The zip with `member`'s CRC-32 changed in its local header and central directory entry (the bytes
    themselves intact): a reader that checks CRCs must refuse the member."""
    info = zipfile.ZipFile(io.BytesIO(payload)).getinfo(member)
    data = bytearray(payload)
    (crc,) = struct.unpack_from("<I", data, info.header_offset + 14)
    bad = struct.pack("<I", crc ^ 0x5A5A5A5A)
    data[info.header_offset + 14:info.header_offset + 18] = bad
    name = member.encode()
    at = data.find(name)
    while at >= 0:  # the central directory entry: its name follows a 46-byte fixed part
        if data[at - 46:at - 42] == b"PK\x01\x02":
            data[at - 46 + 16:at - 46 + 20] = bad
            break
        at = data.find(name, at + 1)
    return bytes(data)


class VirtualZip:
    """A zip of archive scale (GBs) that is never held in memory: stop-and-search members are real
    (deflated), street and outcomes members are runs of zero bytes stored uncompressed, generated as they
    are served. Sliceable like bytes (`zip[start:end]`), which is all FakeArchive needs."""

    def __init__(self, members: list[tuple[str, bytes | int]]) -> None:
        self._offsets: list[int] = []
        self._parts: list[bytes | int] = []  # bytes, or a count of zero bytes
        central, at, zero_crc, packed = [], 0, {}, {}
        for name, payload in members:
            raw = name.encode()
            if isinstance(payload, int):
                method, crc, size, data = 0, zero_crc.setdefault(payload, zlib.crc32(bytes(payload))), payload, payload
            else:
                if id(payload) not in packed:  # the same payload object in many members is compressed once
                    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
                    packed[id(payload)] = (payload, zlib.crc32(payload), packer.compress(payload) + packer.flush())
                _, crc, data = packed[id(payload)]
                method, size = 8, len(payload)
            stored = data if isinstance(data, int) else len(data)
            self._add(at, struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, stored, size,
                                      len(raw), 0) + raw)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, stored,
                                       size, len(raw), 0, 0, 0, 0, 0, at) + raw)
            at += 30 + len(raw)
            self._add(at, data)
            at += stored
        directory = b"".join(central)
        if at + len(directory) >= 0xFFFFFFFF or len(members) >= 0xFFFF:
            raise ValueError("VirtualZip writes no ZIP64 structures: keep it under 4 GB and 65,535 members")
        self._add(at, directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                                              len(directory), at, 0))
        self.size = at + len(directory) + 22

    def _add(self, at: int, part: bytes | int) -> None:
        self._offsets.append(at)
        self._parts.append(part)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, span: slice) -> bytes:
        start, stop, _ = span.indices(self.size)
        out, i = [], max(0, bisect.bisect_right(self._offsets, start) - 1)
        while start < stop and i < len(self._parts):
            part, base = self._parts[i], self._offsets[i]
            length = part if isinstance(part, int) else len(part)
            take = min(stop, base + length) - start
            if take > 0:
                out.append(bytes(take) if isinstance(part, int) else part[start - base:start - base + take])
                start += take
            i += 1
        return b"".join(out)


@dataclass
class Hit:
    path: str
    range: str | None
    status: int
    sent: int
    fault: str | None = None


@dataclass
class FakeArchive:
    """The server (a context manager): `zips` {'YYYY-MM': zip bytes}; see the module docstring."""

    zips: dict[str, bytes]
    ranges: bool = True
    bandwidth: float | None = None        # bytes per second, None: as fast as it goes
    index_page: str | None = None         # serve this instead of the generated index
    faults: list[dict] = field(default_factory=list)  # {'kind', 'path' (substring), 'times', 'delay'}
    log: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        return f"{self.base}/data/archive/"

    def zip_url(self, month: str) -> str:
        return f"{self.base}/files/archive/{month}.zip"

    def fail(self, kind: str, path: str = ".zip", times: int | None = 1, delay: float = 0.0) -> None:
        with self._lock:
            self.faults.append({"kind": kind, "path": path, "times": times, "delay": delay})

    def _take(self, path: str) -> dict | None:
        with self._lock:
            for fault in self.faults:
                if fault["path"] in path and (fault["times"] is None or fault["times"] > 0):
                    if fault["times"] is not None:
                        fault["times"] -= 1
                    return fault
        return None

    def sent(self, path: str = ".zip") -> int:
        return sum(h.sent for h in self.log if path in h.path)

    def index(self) -> str:
        # links of several shapes, as index pages have them: absolute to another path, relative, quoted or not
        links = []
        for i, month in enumerate(sorted(self.zips)):
            href = self.zip_url(month) if i % 2 == 0 else f"../../files/archive/{month}.zip"
            links.append(f'<li><a class="download" href="{href}">{month}</a> (zip)</li>')
        return ("<!DOCTYPE html><html><head><title>Archive | data.police.uk</title></head><body>"
                '<a href="/data/">Data</a><a href="/about/">About</a><ul>' + "\n".join(links) + "</ul></body></html>")

    def start(self) -> FakeArchive:
        handler = type("Handler", (_Handler,), {"archive": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeArchive:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass  # clients dropping connections (timeouts, faults) are normal here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    archive: FakeArchive

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _get(self) -> None:
        archive, path = self.archive, self.path.split("?")[0]
        wanted = self.headers.get("Range")
        if path == "/data/archive/":
            body = (archive.index_page if archive.index_page is not None else archive.index()).encode()
            return self._send(path, wanted, 200, body, "text/html; charset=utf-8")
        found = re.fullmatch(r"/files/archive/(\d{4}-\d{2})\.zip", path)
        if not found or found.group(1) not in archive.zips:
            return self._send(path, wanted, 404, b"<html><title>404 Not Found</title></html>", "text/html")
        data = archive.zips[found.group(1)]
        status, start, end = 200, 0, len(data) - 1
        fault = archive._take(path)
        if archive.ranges and wanted and not (fault is not None and fault["kind"] == "norange"):
            parsed = _parse_range(wanted, len(data))
            if parsed is None:
                return self._send(path, wanted, 416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"})
            status, (start, end) = 206, parsed
        headers = {"Accept-Ranges": "bytes"} if archive.ranges else {}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        if fault is not None and fault["kind"] == "stall":
            if archive._stop.wait(fault["delay"]):
                return None
        self._send(path, wanted, status, data[start:end + 1], "application/zip", headers,
                   truncate=fault is not None and fault["kind"] == "truncate",
                   fault=fault["kind"] if fault else None)

    def _send(self, path: str, wanted: str | None, status: int, body: bytes, content_type: str,
              headers: Mapping[str, str] | None = None, *, truncate: bool = False, fault: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        out = body[: len(body) // 2] if truncate else body
        bandwidth = self.archive.bandwidth
        step = max(1, int(bandwidth / 20)) if bandwidth else 1 << 20
        sent = 0
        try:
            for at in range(0, len(out), step):
                self.wfile.write(out[at:at + step])
                sent += len(out[at:at + step])
                if bandwidth:
                    self.wfile.flush()
                    if self.archive._stop.wait(step / bandwidth):
                        break
            self.wfile.flush()
        finally:  # logged even when the client hangs up early (it read what it wanted)
            with self.archive._lock:
                self.archive.log.append(Hit(path, wanted, status, sent, fault))
        if truncate:
            self.close_connection = True
            self.connection.shutdown(2)


def _parse_range(spec: str, size: int) -> tuple[int, int] | None:
    found = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", spec)
    if not found or (not found.group(1) and not found.group(2)):
        return None
    if not found.group(1):  # a suffix: the last n bytes
        n = int(found.group(2))
        return (max(0, size - n), size - 1) if n else None
    start = int(found.group(1))
    end = min(int(found.group(2)), size - 1) if found.group(2) else size - 1
    return (start, end) if start <= end and start < size else None

