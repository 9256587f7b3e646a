"""HTML pages (lesson index, playground, lessons): filled in by the pages work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
