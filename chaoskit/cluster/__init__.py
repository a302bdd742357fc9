"""Real clusters: kind + Istio + Bookinfo, the context guard, and the cluster backend.

Importing this package is cheap; ``kubernetes`` loads only through ``chaoskit.kube``.
"""

from __future__ import annotations
