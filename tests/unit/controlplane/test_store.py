"""The object store behaves as the Kubernetes API server does for the verbs chaoskit uses."""

from __future__ import annotations

import pytest

from chaoskit.controlplane.store import (
    AlreadyExists,
    Conflict,
    Invalid,
    Kind,
    NotFound,
    ObjectStore,
    merge_patch,
    selector_matches,
)

VS = Kind("networking.istio.io", "VirtualService", "virtualservices")


def _vs(name: str = "reviews", **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": name},
        "spec": {"hosts": ["reviews"], **spec},
    }


def test_create_fills_server_metadata_and_bumps_resource_version() -> None:
    store = ObjectStore()
    first = store.create(VS, "default", _vs("a"))
    second = store.create(VS, "default", _vs("b"))
    assert first["metadata"]["namespace"] == "default"
    assert first["metadata"]["uid"] != second["metadata"]["uid"]
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert first["metadata"]["generation"] == 1


def test_create_twice_is_already_exists_409() -> None:
    store = ObjectStore()
    store.create(VS, "default", _vs())
    with pytest.raises(AlreadyExists) as info:
        store.create(VS, "default", _vs())
    assert info.value.code == 409
    assert 'virtualservices.networking.istio.io "reviews" already exists' in info.value.message


def test_replace_with_a_stale_resource_version_is_a_conflict() -> None:
    """The API server's optimistic concurrency: a stale resourceVersion gets 409 Conflict."""
    store = ObjectStore()
    created = store.create(VS, "default", _vs())
    stale = created["metadata"]["resourceVersion"]
    store.replace(
        VS,
        "default",
        "reviews",
        {**_vs(), "metadata": {"name": "reviews", "resourceVersion": stale}},
    )
    with pytest.raises(Conflict) as info:
        store.replace(
            VS,
            "default",
            "reviews",
            {**_vs(), "metadata": {"name": "reviews", "resourceVersion": stale}},
        )
    assert info.value.code == 409
    assert "the object has been modified" in info.value.message


def test_generation_moves_only_when_the_spec_changes() -> None:
    store = ObjectStore()
    store.create(VS, "default", _vs())
    same = store.patch(VS, "default", "reviews", {"metadata": {"labels": {"a": "b"}}})
    assert same["metadata"]["generation"] == 1
    changed = store.patch(VS, "default", "reviews", {"spec": {"hosts": ["ratings"]}})
    assert changed["metadata"]["generation"] == 2
    assert changed["spec"]["hosts"] == ["ratings"]


def test_get_and_delete_missing_are_not_found_404() -> None:
    store = ObjectStore()
    with pytest.raises(NotFound):
        store.get(VS, "default", "nope")
    with pytest.raises(NotFound) as info:
        store.delete(VS, "default", "nope")
    assert info.value.code == 404


def test_validator_rejection_stores_nothing_and_notifies_nobody() -> None:
    events: list[str] = []

    def refuse(kind: Kind, body: dict[str, object]) -> None:
        raise Invalid("spec.http[0].timeout: invalid duration")

    store = ObjectStore(validators={VS.key: refuse}, listeners=[lambda *a: events.append(a[3])])
    with pytest.raises(Invalid):
        store.create(VS, "default", _vs())
    assert store.select(VS) == []
    assert events == []


def test_listeners_see_every_write() -> None:
    events: list[tuple[str, str]] = []
    store = ObjectStore(listeners=[lambda kind, ns, name, event: events.append((name, event))])
    store.create(VS, "default", _vs())
    store.patch(VS, "default", "reviews", {"spec": {"hosts": ["x"]}})
    store.delete(VS, "default", "reviews")
    assert events == [("reviews", "ADDED"), ("reviews", "MODIFIED"), ("reviews", "DELETED")]


def test_delete_collection_by_label_selector() -> None:
    store = ObjectStore()
    store.create(
        VS, "default", {**_vs("a"), "metadata": {"name": "a", "labels": {"chaoskit.dev/run": "r1"}}}
    )
    store.create(
        VS, "default", {**_vs("b"), "metadata": {"name": "b", "labels": {"chaoskit.dev/run": "r2"}}}
    )
    removed = store.delete_collection(VS, "default", "chaoskit.dev/run=r1")
    assert [o["metadata"]["name"] for o in removed] == ["a"]
    assert [o["metadata"]["name"] for o in store.select(VS)] == ["b"]


def test_merge_patch_follows_rfc_7386() -> None:
    """RFC 7386 §3 example."""
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }
    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=reviews", True),
        ("app=ratings", False),
        ("app!=ratings", True),
        ("version", True),
        ("!version", False),
        ("app=reviews,version=v2", False),
    ],
)
def test_equality_label_selectors(selector: str, expected: bool) -> None:
    assert selector_matches(selector, {"app": "reviews", "version": "v1"}) is expected
