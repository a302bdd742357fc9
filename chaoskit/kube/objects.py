"""Kubernetes object helpers shared by every backend (no client calls here)."""

from __future__ import annotations

import copy
from typing import Any

RUN_LABEL = "chaoskit.dev/run"
# Fields the API server owns; a snapshot drops them so that it can be written back.
SERVER_FIELDS = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without status and server-owned metadata: what can be written back."""
    snapshot = copy.deepcopy(obj)
    snapshot.pop("status", None)
    metadata = snapshot.setdefault("metadata", {})
    for key in SERVER_FIELDS:
        metadata.pop(key, None)
    return snapshot
