"""Child process of the concurrent-claim test: claim cases until none is free, print each id.

Usage: python _claim_child.py URL REVIEWER. Prints ``ready`` once the log is open, waits for a
line on stdin (so that every child starts claiming at the same moment), then prints one
claimed id per line.
"""

from __future__ import annotations

import sys

from prudent.store import SqlPredictionLog


def main(url: str, reviewer: str) -> None:
    """Claim and print until the queue has no free case."""
    with SqlPredictionLog.open(url, busy_timeout_ms=30_000) as log:
        print("ready", flush=True)
        sys.stdin.readline()
        while (case := log.claim_next(reviewer)) is not None:
            print(case.record.id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
