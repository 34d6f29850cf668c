"""Progress of long loops with the time left, one line at a time (a real-data run can take hours)."""
from __future__ import annotations

import sys
import time


class Progress:
    """``step(done)`` prints ``label: done / total, elapsed, about T left`` at most every ``every`` seconds."""

    def __init__(self, total, label, echo=print, every=10.0):
        self.total, self.label, self.echo, self.every = int(total), label, echo, float(every)
        self.start = self.last = time.monotonic()

    def step(self, done: int) -> None:
        now = time.monotonic()
        if not self.echo or now - self.last < self.every:
            return  # quiet for loops shorter than ``every`` seconds, then one line every ``every`` seconds
        self.last = now
        elapsed = now - self.start
        left = elapsed / max(done, 1) * (self.total - done)
        self.echo(f"{self.label}: {done} / {self.total}, {_clock(elapsed)} elapsed, about {_clock(left)} left",
                  file=sys.stderr, flush=True)


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
