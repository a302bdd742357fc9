"""The embedded mesh's control plane: an istiod-like resource store, compiler and push.

It runs in the ``chaoskit mesh up`` process: it serves the Kubernetes REST paths for Istio
resources, pods and services, compiles Istio resources into per-proxy configuration
(``chaoskit.mesh.config``), pushes it to every pod and tracks what each has acknowledged.
"""

from __future__ import annotations
