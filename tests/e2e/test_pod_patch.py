"""PATCH on a pod behaves as on a Kubernetes API server: JSON merge patch (RFC 7386, what
``kubectl annotate`` sends) and strategic merge patch (``kubectl patch``'s default) keep
the annotations they do not name and delete the ones set to null."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import MeshHandle

SETTINGS = "chaoskit.dev/app-settings"
TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")


def annotations_of(mesh: MeshHandle, pod: str) -> dict[str, str]:
    return dict(
        mesh.client.call("GET", f"/api/v1/namespaces/default/pods/{pod}")["metadata"]["annotations"]
    )


def patch(mesh: MeshHandle, pod: str, annotations: dict[str, Any], content_type: str) -> Any:
    path = f"/api/v1/namespaces/default/pods/{pod}"
    body = {"metadata": {"annotations": annotations}}
    return mesh.client.call("PATCH", path, body=body, content_type=content_type)


@pytest.mark.parametrize("content_type", TYPES)
def test_other_annotations_are_kept_and_null_deletes(mesh: MeshHandle, content_type: str) -> None:
    pod = mesh.pod("app=backend")["metadata"]["name"]
    patch(mesh, pod, {"team": "sre"}, content_type)
    patch(mesh, pod, {"owner": "ana"}, content_type)
    annotations = annotations_of(mesh, pod)
    assert (annotations["team"], annotations["owner"]) == ("sre", "ana")

    patch(mesh, pod, {"team": None, "owner": None}, content_type)
    annotations = annotations_of(mesh, pod)
    assert "team" not in annotations
    assert "owner" not in annotations


@pytest.mark.parametrize("content_type", TYPES)
def test_deleting_the_app_settings_annotation_restores_the_specs_settings(
    mesh: MeshHandle, content_type: str
) -> None:
    pod = mesh.pod("app=backend")["metadata"]["name"]
    patch(mesh, pod, {SETTINGS: json.dumps({"errorRate": 1.0}), "team": "sre"}, content_type)
    assert json.loads(annotations_of(mesh, pod)[SETTINGS]) == {"errorRate": 1.0}
    patch(mesh, pod, {SETTINGS: None}, content_type)  # kubectl annotate pod P key-
    annotations = annotations_of(mesh, pod)
    assert json.loads(annotations[SETTINGS]) == {}  # the small mesh's spec sets none
    assert annotations["team"] == "sre"
    patch(mesh, pod, {"team": None}, content_type)


def test_a_json_patch_is_refused_with_what_to_send(mesh: MeshHandle) -> None:
    pod = mesh.pod("app=backend")["metadata"]["name"]
    operations = [{"op": "add", "path": "/metadata/annotations/team", "value": "sre"}]
    with pytest.raises(Exception, match="merge patch"):
        mesh.client.call(
            "PATCH",
            f"/api/v1/namespaces/default/pods/{pod}",
            body=operations,
            content_type="application/json-patch+json",
        )


def test_an_annotation_that_is_not_a_string_is_refused(mesh: MeshHandle) -> None:
    pod = mesh.pod("app=backend")["metadata"]["name"]
    with pytest.raises(
        Exception, match=r"annotations\[replicas\]: annotation values must be strings"
    ):
        patch(mesh, pod, {"replicas": 3}, TYPES[0])
