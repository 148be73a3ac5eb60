"""A thread-safe token bucket that keeps every worker of a fetch under the API's request rate."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

# data.police.uk: "15 requests per second with bursts of up to 30" (a leaky bucket; beyond it, HTTP 429).
API_RATE = 15.0
API_BURST = 30
# The client keeps a few requests of the server's burst in reserve. Requests reach the server with a few
# milliseconds of jitter; a client that emptied the whole bucket would run exactly at the server's limit
# and get the odd 429 whenever one request overtook another. 5 requests = a third of a second of slack.
BURST_HEADROOM = 5


class RateLimiter:
    """Token bucket: `rate` tokens a second, at most `burst` stored; one token per request.

    One instance is shared by all the threads of a fetch, so the limit holds for the process's
    requests together, not per thread. `pause(seconds)` stops every thread (a Retry-After).
    """

    def __init__(self, rate: float = API_RATE, burst: int = API_BURST, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, not rate={rate!r}, burst={burst!r}")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()
        self._paused_until = 0.0
        self.waited = 0.0  # total seconds callers spent blocked in acquire()

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def acquire(self) -> float:
        """Take one token, blocking until there is one; return the seconds spent waiting."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if now < self._paused_until:
                    delay = self._paused_until - now
                elif self._tokens >= 1.0 - 1e-9:  # tolerance: float rounding must not spin for ever
                    self._tokens = max(0.0, self._tokens - 1.0)
                    self.waited += waited
                    return waited
                else:
                    delay = (1.0 - self._tokens) / self.rate
            # Sleep outside the lock; another thread may take the token first, then we loop again.
            self._sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Hold every caller of acquire() for `seconds` from now (the server asked us to wait);
        the bucket is emptied too, so the requests after the pause do not arrive as a burst."""
        if seconds <= 0:
            return
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            self._tokens = 0.0
            self._stamp = self._paused_until

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate:g}, burst={self.burst})"


def police_api_limiter() -> RateLimiter:
    """The limiter a PoliceApiClient uses by default: 15 requests/s, bursts of 25 (30 less the headroom)."""
    return RateLimiter(rate=API_RATE, burst=API_BURST - BURST_HEADROOM)
