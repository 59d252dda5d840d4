"""The Twenty client: records, data model and members over one `httpx.AsyncClient`."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from types import TracebackType

import anyio
import httpx

from adapters.twenty._http import Http, Sleep
from adapters.twenty.bulk import BulkApi
from adapters.twenty.metadata import MetadataApi
from adapters.twenty.records import QUERY_MAX_RECORDS
from core.errors import ConfigError
from core.ports.destination import DestinationSettings, RequestGate


class TwentyClient(BulkApi, MetadataApi):
    """Implements `core.ports.destination.Destination` and `MetadataStore` for Twenty.

    Use as `async with TwentyClient(settings, gate=limiter) as client: ...`. The API key is
    read once from the environment variable the settings name and kept out of every repr,
    message and log.
    """

    def __init__(
        self,
        settings: DestinationSettings,
        *,
        gate: RequestGate,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= settings.batch_size <= QUERY_MAX_RECORDS:
            raise ConfigError(
                f"batch size {settings.batch_size} is out of range: Twenty takes 1 to "
                f"{QUERY_MAX_RECORDS} records a request (Cloud guidance: 60)"
            )
        if not 1 <= settings.mutation_max_records <= QUERY_MAX_RECORDS:
            raise ConfigError(
                f"mutation_max_records {settings.mutation_max_records} is out of range: 1 to "
                f"{QUERY_MAX_RECORDS} (Twenty's newest cap on destroy- and update-many)"
            )
        self._learned_batch_size: int | None = None
        self._learned_mutation_max: int | None = None
        self._restore_prefix = False
        self._http = Http(
            settings,
            gate=gate,
            environ=os.environ if environ is None else environ,
            transport=transport,
            sleep=sleep,
            rng=rng,
        )

    def __repr__(self) -> str:
        return f"TwentyClient(url={self._http.settings.url!r})"

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far (429 answers included)."""
        return self._http.requests

    @property
    def throttled_answers(self) -> int:
        """How many answers were 429."""
        return self._http.throttled

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> TwentyClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
