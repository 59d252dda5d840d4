"""The sandbox application: state, Twenty's routes, and the sandbox's own admin routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.twenty_sandbox.config import SandboxConfig, resolve_api_key
from adapters.twenty_sandbox.data_routes import handle_data, json_response
from adapters.twenty_sandbox.gate import Gate, Stats
from adapters.twenty_sandbox.members import read_members
from adapters.twenty_sandbox.metadata_routes import handle_metadata
from adapters.twenty_sandbox.problems import ApiProblem
from adapters.twenty_sandbox.records import Records
from adapters.twenty_sandbox.schema import Schema
from adapters.twenty_sandbox.standard_model import build_standard_model
from adapters.twenty_sandbox.storage import Storage
from adapters.twenty_sandbox.values import format_instant
from core.clock import Clock, SystemClock

_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


class SandboxState:
    """Everything the routes share: storage, the metadata snapshot, record logic, counters."""

    def __init__(self, config: SandboxConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.api_key = resolve_api_key(config)
        self.batch_max = config.batch_max
        self.mutation_max = config.mutation_max
        self.storage = Storage(config.db_path)
        self.stats = Stats()
        if not self.storage.is_seeded():
            self._seed_standard_model()
        self._schema = self.storage.load_schema()
        self.records = Records(self.storage, self.schema, config.api_key_name, self.clock)
        if config.members_csv is not None:
            self._seed_members()

    def schema(self) -> Schema:
        """The current metadata snapshot."""
        return self._schema

    def reload_schema(self) -> None:
        """Re-read metadata after the metadata API changed it."""
        self._schema = self.storage.load_schema()

    def _seed_standard_model(self) -> None:
        objects, fields = build_standard_model(format_instant(self.clock.now()))
        with self.storage.transaction():
            for obj in objects:
                self.storage.save_object(obj)
            for field in fields:
                self.storage.save_field(field)
            self.storage.mark_seeded()

    def _seed_members(self) -> None:
        assert self.config.members_csv is not None
        members = read_members(self.config.members_csv)
        if members:
            member_object = self._schema.by_singular["workspaceMember"]
            self.records.create(member_object, members, upsert=True)


async def _healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


def build_app(state: SandboxState) -> Gate:
    """The ASGI application serving one sandbox workspace.

    Raises:
        SandboxConfigError: when the members file cannot be used.
    """

    async def data(request: Request) -> Response:
        try:
            return await handle_data(state, request)
        except ApiProblem as problem:
            return json_response(problem.body, problem.status, problem.headers)

    async def metadata(request: Request) -> Response:
        try:
            return await handle_metadata(state, request)
        except ApiProblem as problem:
            return json_response(problem.body, problem.status, problem.headers)

    async def stats(request: Request) -> Response:
        return json_response(state.stats.as_dict())

    async def reset_stats(request: Request) -> Response:
        state.stats.reset()
        return json_response(state.stats.as_dict())

    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/stats/reset", reset_stats, methods=["POST"]),
        Route("/rest/metadata/{path:path}", metadata, methods=_METHODS),
        Route("/rest/metadata", metadata, methods=_METHODS),
        Route("/rest/{path:path}", data, methods=_METHODS),
    ]
    return Gate(Starlette(routes=routes), state.config, state.api_key, state.stats)
