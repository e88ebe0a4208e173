"""A bundle whose accuracy target was out of reach never accepts a row: it promises no
accuracy, and its accept rate cannot drop. The monitor read 'accepted accuracy ≥ 0.990'
(without the fit's tolerance) and bound an accept-rate rule at -0.100, which never fires."""

from __future__ import annotations

from prudent.monitor import Reference, default_rules
from tests.fixtures import FAST, example, fit_bundle, flip_labels


def test_a_bundle_that_never_accepts_is_watched_for_no_accuracy_nor_accept_rate() -> None:
    frame, _ = flip_labels(example("iris"), "target", 0.3, seed=0)
    bundle = fit_bundle(frame, "target", target_accuracy=0.99, **FAST)
    assert bundle.manifest["trust"]["thresholds"]["policy"]["accept_threshold"] is None
    promises = Reference.from_bundle(bundle).promises
    assert promises.target_accuracy is None and promises.accept_rate is None
    watched = {rule.name for rule in default_rules(promises)}
    assert watched and not watched & {
        "realised_accuracy_below_promise", "expected_accuracy_below_promise",
        "high_confidence_error_rate_above_promise", "accept_rate_drop",
    }  # fmt: skip
