"""Istio's Bookinfo sample re-implemented for the embedded mesh (istio-semantics §5).

Kept exactly, because resilience findings depend on them: productpage's 3 s timeouts and
two tries for reviews, reviews v2's 10 s and v3's 2.5 s ratings timeouts, the headers each
service propagates (``end-user`` set by productpage from the login session), the routes and
JSON bodies, the user-visible error texts and the star colours. Apps: productpage.py,
details.py, reviews.py, ratings.py; ``reviews_version_from_page`` reads a page's version.
"""

from __future__ import annotations

from chaoskit.mesh.apps.bookinfo.version import reviews_version_from_page

__all__ = ["reviews_version_from_page"]
