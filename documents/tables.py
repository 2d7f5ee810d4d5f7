"""Tables of the documents package."""
from __future__ import annotations

TABLES: list = []
