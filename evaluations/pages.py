"""Web pages of evaluations (filled in below)."""
from __future__ import annotations

PAGES: list = []
