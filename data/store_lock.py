"""One writer per store at a time: an flock on `<root>/.writer.lock`, held for a whole fetch or import.

The lock belongs to the process (fetch writes from several threads): the first holder takes the flock,
later holders in the same process share it, and the last one out releases it. Another process waits
up to `wait` seconds ($STOPSEARCH_LOCK_WAIT, default 30) and then fails with one line naming the
command and pid that holds it. The lock file records who holds it; the kernel releases an flock when
its process dies (kill -9 included), so a dead holder never blocks anybody.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from data.errors import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one writer is the user's responsibility
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".writer.lock"
WAIT_ENV = "STOPSEARCH_LOCK_WAIT"
DEFAULT_WAIT = 30.0
_POLL = 0.05


class StoreBusy(StoreError):
    """Another process is writing to the store and did not finish within the wait."""


class _Held:
    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.fd: int | None = None
        self.count = 0


_HELD: dict[Path, _Held] = {}
_HELD_GUARD = threading.Lock()


def default_wait() -> float:
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, DEFAULT_WAIT)))
    except ValueError:
        return DEFAULT_WAIT


def _state(root: Path) -> _Held:
    with _HELD_GUARD:
        return _HELD.setdefault(root.resolve(), _Held())


def holder(root: Path) -> str:
    """Who holds (or last held) the lock, as 'pid N (command, since time)'; '' when unknown."""
    try:
        info = json.loads((Path(root) / LOCK_NAME).read_text(encoding="utf-8") or "{}")
        return f"pid {int(info['pid'])} ({info.get('command', '?')}, since {info.get('since', '?')})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _open(root: Path) -> int:
    try:
        root.mkdir(parents=True, exist_ok=True)
        return os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError as exc:
        raise StoreError(f"The store folder {root} is not writable ({exc.strerror}).",
                         hint="Check its permissions, or set STOPSEARCH_DATA_DIR to a folder you can write.",
                         file=str(root)) from exc
    except (NotADirectoryError, FileExistsError) as exc:
        raise StoreError(f"The store folder {root} is not a folder ({exc.strerror}: {exc.filename}).",
                         hint="Set STOPSEARCH_DATA_DIR to a folder (it is created if missing).",
                         file=str(root)) from exc


def _acquire(root: Path, wait: float) -> int:
    fd = _open(root)
    if fcntl is None:  # pragma: no cover
        return fd
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                who = holder(root) or "another process"
                raise StoreBusy(f"Another command is writing to the store {root}: {who}; waited {wait:g} s.",
                                hint=f"Run this again when it has finished (or set {WAIT_ENV} to wait longer).",
                                file=str(root)) from None
            time.sleep(_POLL)
    info = {"pid": os.getpid(), "command": " ".join(["python", *sys.argv])[:200],
            "since": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    return fd


def held_by_this_process(root: Path) -> bool:
    return _state(Path(root)).count > 0


@contextlib.contextmanager
def writer_lock(root: Path, *, wait: float | None = None,
                on_acquire: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the store's writer lock; `on_acquire()` runs once when this process takes it (recovery)."""
    root = Path(root)
    state = _state(root)
    with state.guard:
        if state.count == 0:
            state.fd = _acquire(root, default_wait() if wait is None else wait)
            try:
                if on_acquire is not None:
                    on_acquire()
            except BaseException:
                _release(state)
                raise
        state.count += 1
    try:
        yield
    finally:
        with state.guard:
            state.count -= 1
            if state.count == 0:
                _release(state)


def _release(state: _Held) -> None:
    fd, state.fd = state.fd, None
    if fd is not None:
        try:
            os.ftruncate(fd, 0)  # nobody holds it now: leave no stale holder behind
        except OSError:
            pass
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
