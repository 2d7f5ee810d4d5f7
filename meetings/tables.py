"""Tables of the meetings package."""
from __future__ import annotations

TABLES: list = []
