"""Istio's Bookinfo sample re-implemented for the embedded mesh (istio-semantics §5).

The behaviour that resilience findings depend on is kept exactly: productpage's 3 s
timeouts and two tries for reviews, reviews v2's 10 s and v3's 2.5 s ratings timeouts,
the headers each service propagates (``end-user`` set by productpage from the login
session), the user-visible error texts and the star colours.
"""

from __future__ import annotations

from chaoskit.mesh.apps.bookinfo.page import reviews_version_from_page

__all__ = ["reviews_version_from_page"]
