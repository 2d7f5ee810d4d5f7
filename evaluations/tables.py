"""Tables of the evaluations package."""
from __future__ import annotations

TABLES: list = []
