"""Liveness check for load balancers, container health checks and the test fixtures."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = "ok"


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The server is up and answering."""
    return Health()
