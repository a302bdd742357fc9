"""pytest plugin for chaos experiments (registered through the ``pytest11`` entry point).

It must stay cheap to import: heavy modules load inside the fixtures that need them.
"""

from __future__ import annotations
