"""Placeholder replaced below."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from adapters.twenty_sandbox.problems import ApiProblem


async def handle_metadata(state: Any, request: Request) -> Response:
    """Metadata API."""
    raise ApiProblem(501, "not yet")
