"""Benchmark: how close a fetch gets to data.police.uk's 15 requests/s against a local server enforcing it."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # `python benchmarks/bench_fetch.py` as well as `python -m benchmarks.bench_fetch`
    sys.path.insert(0, str(PROJECT))

from data.api import PoliceApiClient  # noqa: E402
from data.fetch import fetch  # noqa: E402
from data.months import add_months  # noqa: E402
from data.ratelimit import API_BURST, API_RATE, BURST_HEADROOM, RateLimiter  # noqa: E402
from data.store import Store  # noqa: E402

# Forces listed in every month of the synthetic availability list (the Met has gaps, so it is left out).
FORCES = ["kent", "essex", "surrey", "sussex", "dorset", "durham", "cumbria", "cheshire", "derbyshire",
          "hampshire", "lancashire", "norfolk", "suffolk", "wiltshire", "west-mercia", "west-midlands"]
LAST_MONTH = "2025-06"  # the synthetic list covers the 36 months to here


class RecordingLimiter(RateLimiter):
    """The client's own limiter (15/s, bursts of 25), noting when each request was let through."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stamps: list[float] = []

    def acquire(self) -> float:
        waited = super().acquire()
        self.stamps.append(time.monotonic())  # list.append is atomic under the GIL
        return waited


def start_server(*, rate_limit: bool, latency: float, data_dir: Path) -> tuple[subprocess.Popen, str]:
    """The fake API in its own process (as the real one is): it does not compete with the fetch for the GIL."""
    command = [sys.executable, "-m", "tests.police_api_server", "--port", "0", "--data", str(data_dir),
               "--latency", str(latency)] + (["--rate-limit"] if rate_limit else [])
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(PROJECT)})
    return process, process.stdout.readline().strip()


def stop_server(process: subprocess.Popen) -> tuple[int, int]:
    """Stop it; (requests served, requests answered 429) from its closing line."""
    process.terminate()
    _, err = process.communicate(timeout=10)
    found = re.search(r"served (\d+) requests \((\d+) answered 429\)", err)
    return (int(found.group(1)), int(found.group(2))) if found else (-1, -1)


def run(*, force_months: int, workers: int, latency: float, rate_limit: bool) -> dict[str, float]:
    months_per_force = -(-force_months // len(FORCES))
    forces = FORCES[: -(-force_months // months_per_force)]
    months = [add_months(LAST_MONTH, -i) for i in range(months_per_force)]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "replies"  # empty: the server synthesises every reply
        data_dir.mkdir()
        server, url = start_server(rate_limit=rate_limit, latency=latency, data_dir=data_dir)
        try:
            limiter = RecordingLimiter(API_RATE, API_BURST - BURST_HEADROOM) if rate_limit else \
                RecordingLimiter(rate=10_000, burst=10_000)
            with PoliceApiClient(url, limiter=limiter) as client:
                started, cpu = time.monotonic(), time.process_time()
                summary = fetch(Store(Path(tmp) / "store"), forces, months, client=client, workers=workers)
                seconds, cpu = time.monotonic() - started, time.process_time() - cpu
                burst = client.limiter.burst
                stamps = sorted(limiter.stamps)
        finally:
            served, refused = stop_server(server)
    requests = summary.requests
    return {"force_months": summary.total, "ok": summary.ok, "failed": len(summary.failed), "requests": requests,
            "retries": summary.retries, "seconds": seconds, "served": served, "refused_429": refused,
            "rate": requests / seconds, "burst": burst, "cpu_per_request": cpu / max(requests, 1),
            # the bucket lets `burst` requests go at once; the rest can go no faster than 15/s
            "sustained": max(requests - burst, 0) / seconds, "best_seconds": max(requests - burst, 0) / API_RATE,
            # the pace in the second half of the run, when the bucket's burst is long spent
            "steady": (len(stamps) - 1 - len(stamps) // 2) / (stamps[-1] - stamps[len(stamps) // 2])
            if len(stamps) > 2 * burst else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force-months", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.05, help="server seconds per reply (network stand-in)")
    args = parser.parse_args(argv)

    print(f"fetch of {args.force_months} force-months, {args.workers} workers, {args.latency * 1000:.0f} ms "
          f"per reply, server in its own process; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    limited = run(force_months=args.force_months, workers=args.workers, latency=args.latency, rate_limit=True)
    print(f"\nagainst a server enforcing 15/s, bursts of 30 (client bucket: 15/s, bursts of {limited['burst']}):")
    print(f"  {limited['ok']} ok, {limited['failed']} failed; {limited['requests']} requests "
          f"({limited['retries']} retries; the server answered 429 to {limited['refused_429']}) "
          f"in {limited['seconds']:.2f} s")
    print(f"  overall rate       {limited['rate']:6.2f} requests/s = {100 * limited['rate'] / API_RATE:5.1f}% of 15/s "
          "(the initial burst included)")
    print(f"  sustained rate     {limited['sustained']:6.2f} requests/s = "
          f"{100 * limited['sustained'] / API_RATE:5.1f}% of 15/s (requests beyond the burst / all the time; "
          "target >= 90%)")
    print(f"  steady pace        {limited['steady']:6.2f} requests/s = {100 * limited['steady'] / API_RATE:5.1f}% of 15/s "
          "(second half of the requests, by the client's own clock)")
    print(f"  fastest possible   {limited['best_seconds']:.2f} s; took "
          f"{100 * limited['best_seconds'] / limited['seconds']:5.1f}% of that pace")

    free = run(force_months=args.force_months, workers=args.workers, latency=args.latency, rate_limit=False)
    print("\nthe same without any rate limit (how much headroom the client has above 15/s):")
    print(f"  {free['requests']} requests in {free['seconds']:.2f} s = {free['rate']:.1f} requests/s")
    for name, result in (("rate-limited", limited), ("unlimited", free)):
        per = result["cpu_per_request"]
        print(f"  client CPU ({name} run): {1000 * per:.1f} ms per force-month (all threads): one free core "
              f"keeps up with {1 / per:.0f} force-months/s")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} (a loaded machine slows the wall-clock figures, "
          "not the CPU ones)")
    ok = limited["refused_429"] == 0 and limited["failed"] == 0 and limited["sustained"] >= 0.9 * API_RATE
    print(f"\n{'PASS' if ok else 'BELOW TARGET'}: sustained {100 * limited['sustained'] / API_RATE:.1f}% of 15/s "
          f"end to end, steady pace {100 * limited['steady'] / API_RATE:.1f}%, {limited['refused_429']} answered 429")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
