"""The registry on real bundles: versions, aliases, rollback, an append-only history, and
concurrent writers from several processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import prudent
from prudent.errors import RegistryError
from prudent.retrain import Event, Registry
from prudent.retrain._records import alias_stacks
from tests.fixtures import rehash_bundle
from tests.retrain.conftest import copy_bundle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two(tmp_path: Path, bundle_dir: Path) -> Registry:
    """A registry holding the bundle twice (v1, v2), no alias set."""
    registry = Registry(tmp_path / "reg", create=True)
    registry.register(bundle_dir, by="ann", reason="first fit")
    registry.register(bundle_dir, by="ann")
    return registry


def test_register_copies_a_verified_read_only_version(two: Registry, bundle_dir: Path) -> None:
    v1 = two.version("1")
    assert [v.name for v in two.versions()] == ["v1", "v2"]
    assert v1.path == two.root / "versions" / "v1" and v1.reason == "first fit"
    assert v1.manifest_sha256 == (bundle_dir / "manifest.sha256").read_text().strip()
    assert v1.model_version == prudent.load(bundle_dir).version
    assert all(not p.stat().st_mode & stat.S_IWUSR for p in v1.path.iterdir())
    assert prudent.load(v1.path).version == v1.model_version
    assert [p.name for p in (two.root / "versions").iterdir() if p.name.startswith(".")] == []


def test_rollback_after_two_promotions_returns_to_the_first(two: Registry) -> None:
    two.promote("v1", by="ann", reason="launch")
    two.promote("v2", by="bob", reason="better on May")
    back = two.rollback(by="cy", reason="complaints")
    assert (back.action, back.version, back.previous, back.by) == ("rollback", "v1", "v2", "cy")
    assert two.aliases() == {"champion": "v1"}
    assert two.version("@champion").name == "v1"
    assert json.loads((two.root / "aliases.json").read_text()) == {"champion": "v1"}
    with pytest.raises(RegistryError, match="'champion' has no earlier version"):
        two.rollback(by="cy")
    actions = [(e.action, e.alias, e.version, e.previous) for e in two.history()]
    assert actions == [
        ("register", None, "v1", None),
        ("register", None, "v2", None),
        ("promote", "champion", "v1", None),
        ("promote", "champion", "v2", "v1"),
        ("rollback", "champion", "v1", "v2"),
    ]


def test_rollback_pops_promotions_in_order_never_ping_pong(two: Registry) -> None:
    for ref in ("v1", "v2", "v1"):
        two.promote(ref, by="ann")
    assert two.rollback(by="ann").version == "v2"
    assert two.rollback(by="ann").version == "v1"
    with pytest.raises(RegistryError, match="no earlier version"):
        two.rollback(by="ann")


def test_history_is_append_only_and_timed_by_the_clock(tmp_path: Path, bundle_dir: Path) -> None:
    times = iter(datetime(2026, 5, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(10))
    registry = Registry(tmp_path / "reg", create=True, clock=lambda: next(times))
    path = registry.root / "history.jsonl"
    before = b""
    steps = [
        lambda: registry.register(bundle_dir, by="ann"),
        lambda: registry.register(bundle_dir, by="ann"),
        lambda: registry.promote("v1", by="ann"),
        lambda: registry.promote("v2", alias="challenger", by="ann"),
        lambda: registry.promote("@challenger", by="ann"),
        lambda: registry.rollback(by="ann"),
    ]
    for step in steps:
        step()
        after = path.read_bytes()
        assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
        before = after
    assert [e.at[11:13] for e in registry.history()] == ["00", "01", "02", "03", "04", "05"]
    assert registry.aliases() == {"champion": "v1", "challenger": "v2"}


def test_a_corrupted_bundle_is_refused_and_leaves_nothing(tmp_path: Path, bundle_dir: Path) -> None:
    bad = copy_bundle(bundle_dir, tmp_path / "bad")
    model = bad / "model.skops"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    registry = Registry(tmp_path / "reg", create=True)
    with pytest.raises(RegistryError, match=r"'model.skops' in '.*bad' does not match its SHA"):
        registry.register(bad, by="ann")
    assert registry.versions() == [] and registry.history() == []
    assert list((registry.root / "versions").iterdir()) == []


def test_a_version_with_other_inputs_needs_force(two: Registry, tmp_path: Path) -> None:
    def drop_a_column(manifest: dict[str, object]) -> None:
        schema = manifest["schema"]
        assert isinstance(schema, dict)
        schema["columns"] = schema["columns"][1:]

    other = copy_bundle(two.version("v1").path, tmp_path / "other")
    for p in other.iterdir():
        p.chmod(0o644)
    rehash_bundle(other, drop_a_column)
    assert two.register(other, by="ann").name == "v3"
    two.promote("v1", by="ann")
    with pytest.raises(RegistryError, match=r"v3 has other input columns than v1.*--force"):
        two.promote("v3", by="ann")
    forced = two.promote("v3", by="ann", reason="new feature set", force=True)
    assert forced.forced and two.history()[-1] == forced
    with pytest.raises(RegistryError, match="v3 already holds 'champion'"):
        two.promote("3", by="ann")


def test_unknown_names_are_refused_with_what_exists(two: Registry, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"No version 'v7' .* \(versions: v1, v2\)"):
        two.promote("v7", by="ann")
    with pytest.raises(RegistryError, match="No version holds the alias 'champion'"):
        two.version("@champion")
    with pytest.raises(RegistryError, match="is not a model registry"):
        Registry(tmp_path / "elsewhere")
    with pytest.raises(RegistryError, match="does not exist"):
        two.register(tmp_path / "missing", by="ann")


@pytest.mark.parametrize("alias", ["a/b", "../../escaped", "..", "", ".hidden", "bad alias!"])
def test_an_alias_that_cannot_name_a_link_is_refused_before_it_is_recorded(
    two: Registry, alias: str
) -> None:
    with pytest.raises(RegistryError, match=f"Alias {alias!r} is not a valid alias name"):
        two.promote("v1", alias=alias, by="ann")
    assert len(two.history()) == 2 and two.aliases() == {}  # the two registrations only
    assert two.promote("v1", by="ann").alias == "champion"  # later moves still work
    assert two.link().resolve() == two.version("v1").path.resolve()


def test_a_recorded_alias_that_names_no_link_does_not_stop_later_moves(two: Registry) -> None:
    """A registry where 'a/b' was recorded (before names were checked): every later move
    failed on its link ('No such file or directory'), each move recorded but unlinked."""
    with (two.root / "history.jsonl").open("a") as fh:
        fh.write(json.dumps({"at": "2026-05-01T00:00:00+00:00", "action": "promote",
                             "alias": "a/b", "version": "v2", "previous": None, "by": "ann",
                             "reason": "", "forced": False}) + "\n")  # fmt: skip
    two.promote("v1", by="ann")
    assert two.link().resolve() == two.version("v1").path.resolve()
    assert sorted(p.name for p in (two.root / "aliases").iterdir()) == ["champion"]


def test_a_torn_last_line_is_not_a_record_and_is_cut(two: Registry) -> None:
    path = two.root / "history.jsonl"
    with path.open("a") as fh:
        fh.write('{"action": "promote", "ali')  # a writer died mid-line
    assert len(two.history()) == 2
    two.promote("v2", by="ann")
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)


def test_a_damaged_history_line_is_named(two: Registry) -> None:
    path = two.root / "history.jsonl"
    path.write_text("not json\n" + path.read_text())
    with pytest.raises(RegistryError, match=r"history\.jsonl line 1 is not valid JSON"):
        two.history()


def _consistent(events: list[Event]) -> None:
    """Each move starts from the holder the previous moves left: no move was lost."""
    for i, e in enumerate(events):
        if e.alias is None:
            continue
        stack = alias_stacks(events[:i]).get(e.alias, [])
        assert e.previous == (stack[-1] if stack else None), e
        if e.action == "rollback":
            assert e.version == stack[-2], e


def test_concurrent_moves_from_processes_never_corrupt(two: Registry, bundle_dir: Path) -> None:
    two.register(bundle_dir, by="ann")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = [sys.executable, "-m", "tests.retrain._promote_child", str(two.root)]
    children = [
        subprocess.Popen(
            [*child, f"p{k}", "40", str(k)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for k in range(4)
    ]
    made = []
    for child in children:
        out, err = child.communicate(timeout=240)
        assert child.returncode == 0, err[-2000:]
        made.append(int(out))
    moves = [e for e in two.history() if e.alias is not None]
    assert len(moves) == sum(made) > 40
    assert {e.by for e in moves} == {"p0", "p1", "p2", "p3"}
    _consistent(two.history())
    assert json.loads((two.root / "aliases.json").read_text()) == two.aliases()
    assert [p.name for p in two.root.iterdir() if p.suffix == ".tmp"] == []
