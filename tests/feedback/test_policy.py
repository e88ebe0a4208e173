"""The queue policy: OOD first then lowest confidence, and the audit slice of accepted rows."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

import pytest

from prudent.errors import ConfigError
from prudent.feedback import QueuePolicy, audit_draw, case_dict, cost_table
from prudent.store import LogStore, PredictionRecord, new_prediction_id
from tests.store.conftest import T0, make_record


def _review(confidence: float | None, *, ood: bool = False, i: int = 0) -> PredictionRecord:
    reason = "out_of_distribution" if ood else "low_confidence"
    return make_record(
        decision="review",
        prediction=None,
        confidence=confidence,
        is_ood=ood,
        defer_reason=reason,
        created_at=T0 + timedelta(seconds=i),
    )


def test_policy_orders_ood_first_then_lowest_confidence(
    open_log: Callable[..., LogStore],
) -> None:
    log = open_log(triage=QueuePolicy(audit_share=0.0))
    rows = [
        _review(0.6, i=0),
        _review(0.9, ood=True, i=1),
        _review(None, i=2),  # no model answered: confidence counts as 0
        _review(0.4, ood=True, i=3),
        _review(0.45, i=4),
    ]
    log.write([*rows, make_record(), make_record(decision="rule")])
    got = [c.record.id for c in log.list_review()]
    assert got == [rows[i].id for i in (3, 1, 2, 4, 0)]
    assert [c.reason for c in log.list_review(limit=2)] == ["out_of_distribution"] * 2


def test_policy_without_ood_first_orders_by_confidence_only() -> None:
    policy = QueuePolicy(ood_first=False)
    ood, unsure = _review(0.9, ood=True), _review(0.4)
    assert policy(unsure).priority < policy(ood).priority  # type: ignore[union-attr]


def test_audit_slice_is_close_to_its_share_and_deterministic() -> None:
    ids = [new_prediction_id() for _ in range(10_000)]
    for share in (0.01, 0.2):
        policy = QueuePolicy(audit_share=share)
        drawn = [pid for pid in ids if policy(make_record(id=pid)) is not None]
        sd = math.sqrt(share * (1 - share) / len(ids))
        assert abs(len(drawn) / len(ids) - share) < 4 * sd, (share, len(drawn))
        again = [pid for pid in ids if policy(make_record(id=pid)) is not None]
        assert again == drawn
    other_seed = {pid for pid in ids if audit_draw(pid, seed=1) < 0.2}
    assert other_seed != {pid for pid in ids if audit_draw(pid) < 0.2}
    never = QueuePolicy(audit_share=0.0)
    assert all(never(make_record(id=pid)) is None for pid in ids[:1000])


def test_audit_cases_enter_the_queue_marked_as_audit(open_log: Callable[..., LogStore]) -> None:
    log = open_log(triage=QueuePolicy(audit_share=0.5))
    accepted = [make_record() for _ in range(200)]
    log.write([*accepted, *(make_record(decision="backup") for _ in range(50))])
    cases = log.list_review(limit=500)
    assert 70 < len(cases) < 130  # binomial(200, 0.5): 100 ± 30 is beyond 4 sd
    assert {(c.reason, c.audit, c.record.decision.value) for c in cases} == {
        ("audit", True, "accept")
    }
    case = log.claim_next("ana")
    assert case is not None and case_dict(case)["reason"] == "audit"
    log.add_feedback(case.record.id, "setosa", source="ana")
    assert log.count_review() == len(cases) - 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"audit_share": 1.5}, r"audit_share must be a number in \[0, 1\], but 1\.5"),
        ({"audit_share": "1%"}, "audit_share must be a number"),
        ({"seed": 0.5}, "seed must be an integer"),
    ],
)
def test_policy_refuses_bad_settings(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        QueuePolicy(**options)  # type: ignore[arg-type]


def test_policy_with_costs_serves_the_highest_expected_cost_first(
    open_log: Callable[..., LogStore],
) -> None:
    # missing a fraud costs 10, a false alarm 1: the likelier fraud is the cheaper to answer
    # (say "fraud": 0.55 x 1) than the confident "ok" (0.15 x 10 = 1.5, or 0.85 x 1)
    costs = cost_table([[0, 1], [10, 0]], ["ok", "fraud"])
    unsure = make_record(decision="review", prediction=None, confidence=0.55,
                         probabilities={"ok": 0.55, "fraud": 0.45})  # fmt: skip
    confident = make_record(decision="review", prediction=None, confidence=0.85,
                            probabilities={"ok": 0.85, "fraud": 0.15})  # fmt: skip
    plain, costly = QueuePolicy(audit_share=0.0), QueuePolicy(audit_share=0.0, costs=costs)
    assert plain.priority(unsure) < plain.priority(confident)
    assert costly.priority(confident) < costly.priority(unsure)
    log = open_log(triage=costly)
    log.write([unsure, confident])
    assert [c.record.id for c in log.list_review()] == [confident.id, unsure.id]
    nothing = make_record(decision="review", prediction=None, confidence=None, probabilities={})
    assert costly.priority(nothing) == pytest.approx(1.0)  # no model answered: first in band
