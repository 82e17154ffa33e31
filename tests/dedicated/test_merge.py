"""The three-way merge that lets user-defined values survive regeneration."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from aperture_proxy.dedicated.merge import MISSING, GeneratedState, merge, same


def test_a_value_the_user_changed_is_kept() -> None:
    assert merge({"ctx": 64000}, {"ctx": 128000}, {"ctx": 200000}) == {"ctx": 64000}


def test_a_value_the_user_left_alone_is_regenerated() -> None:
    assert merge({"ctx": 128000}, {"ctx": 128000}, {"ctx": 200000}) == {"ctx": 200000}


def test_without_a_base_the_file_wins_and_gaps_are_filled() -> None:
    assert merge({"ctx": 128000}, MISSING, {"ctx": 200000, "out": 8192}) == {
        "ctx": 128000,
        "out": 8192,
    }


def test_keys_the_user_added_stay() -> None:
    merged = merge({"a": 1, "mine": True}, {"a": 1}, {"a": 2})
    assert merged == {"a": 2, "mine": True}


def test_a_generated_key_no_longer_generated_is_dropped() -> None:
    merged = merge({"old-model": {"x": 1}, "m": {}}, {"old-model": {"x": 1}}, {"m": {}})
    assert merged == {"m": {}}


def test_a_generated_key_the_user_edited_is_kept_when_no_longer_generated() -> None:
    merged = merge({"old-model": {"x": 5}}, {"old-model": {"x": 1}}, {})
    assert merged == {"old-model": {"x": 5}}


def test_the_files_key_order_is_kept_and_new_keys_follow() -> None:
    merged = merge({"b": 1, "a": 1}, MISSING, {"a": 1, "c": 1, "b": 1})
    assert list(merged) == ["b", "a", "c"]


def test_a_replaceable_value_is_replaced_even_without_a_base() -> None:
    merged = merge(
        {"m": {"ctx": 128000, "out": 5}},
        MISSING,
        {"m": {"ctx": 200000, "out": 64000}},
        replaceable=lambda path, value: path == ("m", "ctx") and value == 128000,
    )
    assert merged == {"m": {"ctx": 200000, "out": 5}}


def test_sameness_is_by_meaning() -> None:
    assert same(3, 3.0)
    assert same(Decimal("0.30"), 0.3)
    assert same(["text", "image"], ("text", "image"))
    assert not same(True, 1)
    assert not same(0, False)
    assert not same("3", 3)
    assert not same({"a": 1}, {"a": 1, "b": 2})


def test_the_base_is_remembered_per_file_and_format(tmp_path: Path) -> None:
    state = GeneratedState(tmp_path / "state")
    target = tmp_path / "models.json"
    assert state.load(target, "pi") is MISSING
    state.save(target, "pi", {"cost": Decimal("0.0000003")})
    assert state.load(target, "pi") == {"cost": Decimal("0.0000003")}
    assert state.load(target, "opencode") is MISSING
    assert state.load(tmp_path / "other.json", "pi") is MISSING


def test_a_corrupt_base_counts_as_none(tmp_path: Path) -> None:
    state = GeneratedState(tmp_path / "state")
    target = tmp_path / "models.json"
    state.save(target, "pi", {"a": 1})
    (stored,) = (tmp_path / "state").iterdir()
    stored.write_text("{broken", encoding="utf-8")
    assert state.load(target, "pi") is MISSING
