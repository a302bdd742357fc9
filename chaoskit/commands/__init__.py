"""One module per ``chaoskit`` subcommand: each adds its parser and runs it."""

from __future__ import annotations
