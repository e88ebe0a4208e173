"""A process that promotes and rolls back in a loop, for the registry's concurrency test.

Usage: python -m tests.retrain._promote_child REGISTRY NAME N SEED. Prints the number of
moves it made (a promotion to the version already holding the alias, or a rollback with
nothing to return to, is refused and not counted).
"""

from __future__ import annotations

import random
import sys

from prudent.errors import RegistryError
from prudent.retrain import Registry


def main(root: str, name: str, n: int, seed: int) -> None:
    registry = Registry(root)
    rng = random.Random(seed)
    names = [v.name for v in registry.versions()]
    made = 0
    for i in range(n):
        try:
            if rng.random() < 0.3:
                registry.rollback(by=name, reason=f"round {i}")
            else:
                registry.promote(rng.choice(names), by=name, reason=f"round {i}")
            made += 1
        except RegistryError as exc:
            assert "already holds" in str(exc) or "no earlier version" in str(exc), exc
    print(made)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
