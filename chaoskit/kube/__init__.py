"""The Kubernetes seam: one client for the embedded mesh's API server and real clusters."""

from __future__ import annotations
