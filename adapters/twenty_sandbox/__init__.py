"""A local, faithful Twenty CRM API server: records, metadata, limits and faults.

Written from Twenty's documented behaviour (docs/sandbox.md and the Twenty REST/metadata API
reference it cites), sharing no code with Ferry's Twenty client.
"""

from __future__ import annotations

from adapters.twenty_sandbox.app import SandboxState, build_app
from adapters.twenty_sandbox.config import (
    RateWindow,
    SandboxConfig,
    SandboxConfigError,
    parse_rate_window,
)
from adapters.twenty_sandbox.server import SandboxHandle, running_sandbox, serve

__all__ = [
    "RateWindow",
    "SandboxConfig",
    "SandboxConfigError",
    "SandboxHandle",
    "SandboxState",
    "build_app",
    "parse_rate_window",
    "running_sandbox",
    "serve",
]
