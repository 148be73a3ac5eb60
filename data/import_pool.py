"""Worker processes that normalise batches of bulk files while the importing process reads and stores.

Normalising (CSV parsing, checks, conversion) is most of an import's CPU; with two or more CPUs a big
import hands each batch to a worker and gets back the store's Arrow tables, in order. Everything that
touches the store (commits, the manifest, failures, the one-file path that explains a refusal) stays in
the importing process, so a worker can never leave the store half-written. Workers start from a
forkserver (or spawn), never fork: the importer runs a storing thread, and forking a process with threads
is unsafe. Small imports (tests, a file or two) stay in-process: starting workers costs ~1 s.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

log = logging.getLogger(__name__)

POOL_MIN_BYTES = 48 << 20   # an import this big (or with this many files) pays for the workers' start
POOL_MIN_FILES = 200
WORKERS_ENV = "STOPSEARCH_IMPORT_WORKERS"  # 0 or 1: always in-process; N: N workers for any import


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def planned_workers(workers: int | None) -> int | None:
    """The workers asked for (argument, then $STOPSEARCH_IMPORT_WORKERS); None = decide by the import's size,
    0 = in-process when the program cannot start workers safely (see main_reimport_safe)."""
    if workers is None and os.environ.get(WORKERS_ENV, "").strip().isdigit():
        workers = int(os.environ[WORKERS_ENV])
    if workers is None and not main_reimport_safe():
        workers = 0
    return workers


def main_reimport_safe() -> bool:
    """True when a worker may import the program's main module: a new process (spawn or forkserver) runs it
    again, and a script run by path may not guard its work with `if __name__ == "__main__"`; a module run
    with -m (`python -m data import`, `python -m benchmarks`, pytest) does, and a program without a main file
    (python -c, a notebook) has nothing to run."""
    main = sys.modules.get("__main__")
    return main is None or getattr(main, "__spec__", None) is not None or not getattr(main, "__file__", None)


class NormalisePool:
    """A process pool running `task(files)`; a pool that breaks (a worker killed) hands work back in-process."""

    def __init__(self, workers: int, task: Callable, *, preload: str) -> None:
        self.workers, self.task = workers, task
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload([preload])  # pandas and pyarrow are imported once, not per worker
        self._executor: ProcessPoolExecutor | None = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        self.cpu_seconds = 0.0  # the workers' CPU time on tasks (benchmarks report it beside this process's)

    @property
    def depth(self) -> int:
        """Batches to keep in flight: one per worker, and one more ready for whichever finishes first."""
        return self.workers + 1

    def submit(self, files: list) -> Future | None:
        if self._executor is None:
            return None
        try:
            return self._executor.submit(_timed, self.task, files)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._broken(exc)
            return None

    def result(self, future: Future | None, files: list):
        """The task's answer for `files`; computed here when the pool could not give it."""
        if future is not None:
            try:
                seconds, answer = future.result()
                self.cpu_seconds += seconds
                return answer
            except BrokenProcessPool as exc:
                self._broken(exc)
        return self.task(files)

    def _broken(self, exc: BaseException) -> None:
        log.warning("import workers stopped (%s); normalising in this process from now on", exc)
        self.shutdown()

    def shutdown(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _timed(task: Callable, files: list) -> tuple[float, object]:
    started = time.process_time()
    answer = task(files)
    return time.process_time() - started, answer
