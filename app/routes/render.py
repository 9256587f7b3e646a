"""Placeholder: filled in next by the API work (issue 4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
