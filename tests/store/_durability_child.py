"""Child process of the durability test: write predictions, print each id once it is committed.

Usage: python _durability_child.py URL SYNCHRONOUS. Four threads write batches of one to three
records; an id is printed only after ``write`` returned, so every printed id must survive a
``kill -9`` of this process.
"""

from __future__ import annotations

import sys
import threading

from prudent.store import PredictionRecord, SqlPredictionLog


def _client(log: SqlPredictionLog, number: int, out: threading.Lock) -> None:
    i = 0
    while True:
        records = [
            PredictionRecord(
                model_version="sha256:durable",
                model_name="durability",
                inputs={"client": number, "i": i, "k": k},
                probabilities={"a": 0.3, "b": 0.7},
                prediction=None if i % 4 == 0 else "b",
                decision="review" if i % 4 == 0 else "accept",
            )
            for k in range(1 + i % 3)
        ]
        log.write(records)
        with out:
            sys.stdout.write("".join(f"{r.id}\n" for r in records))
            sys.stdout.flush()
        i += 1


def main() -> None:
    url, synchronous = sys.argv[1], sys.argv[2]
    log = SqlPredictionLog.open(url, synchronous=synchronous)
    out = threading.Lock()
    for number in range(4):
        threading.Thread(target=_client, args=(log, number, out), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
