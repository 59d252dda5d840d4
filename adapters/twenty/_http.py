"""One request to Twenty: admission, authentication, timeouts and error classification.

Every HTTP answer or failure becomes either parsed JSON or one of the destination port's
errors, so nothing above this module sees httpx. Rules (reference twenty-api.md §7-§8):

- 429: wait `Retry-After` when Twenty sends it (rate-limit v2), else back off exponentially
  with jitter (Twenty's default 429 has no header); the shared gate holds every task back.
- timeout, dropped connection, 5xx on a write: outcome unknown (the caller reconciles by id);
  on a read: retried a few times, then RetryableError.
- 400 and other 4xx: fatal for the record, Twenty's message attached with values redacted;
  an unknown field or object is a schema mismatch and fatal for the run; "too many records
  in one request" is BatchTooLargeError (nothing was written: resend in smaller requests).
- 401/402/403: fatal for the run with a message naming the environment variable to check.
"""

from __future__ import annotations

import os
import random
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx

from core.errors import FatalForRunError, RetryableError
from core.ports.destination import (
    BatchTooLargeError,
    DestinationAuthError,
    DestinationSettings,
    DuplicateRecordError,
    RateLimitedError,
    RecordNotFoundError,
    RecordRejectedError,
    RequestGate,
    WriteOutcomeUnknownError,
)

Sleep = Callable[[float], Awaitable[None]]

_READ_ATTEMPTS = 4
_SINGLE_QUOTED = re.compile(r"'[^']*'")
_KEY_VALUE = re.compile(r"=\([^)]*\)")
_FIELD = re.compile(r'"([A-Za-z_][A-Za-z0-9_.]*)"')
_DOUBLE_QUOTED = re.compile(r'"([^"]*)"')
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
# Twenty names the refused value unquoted after these (transform-phones-value).
_INVALID_TAIL = re.compile(r"(phone number is invalid)\s+\S.*$", re.IGNORECASE)
# An email, a UUID (kept) or any run holding a digit: phone numbers, dates, ids, amounts.
_LOOSE_VALUE = re.compile(
    r"[^\s'\"()=,;]+@[^\s'\"()=,;]+"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\+?\d[\d\s().\-/:]*\d|\d"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_QUOTED_PART = re.compile(r"(\"[^\"]*\"|'[^']*')")
_SCHEMA_MISMATCH = re.compile(r"doesn't have any \"|object '[^']*' not found", re.IGNORECASE)
# Twenty's refusals of a request carrying too many records, before anything is written:
# "Maximum number of records to upsert is 200." (batch create/upsert) and "Cannot destroy
# more than 200 records at once" (destroy-/update-many in the newest servers).
_TOO_MANY = re.compile(
    r"maximum number of records to \w+ is (\d+)|cannot \w+ more than (\d+) records at once",
    re.IGNORECASE,
)


def redact(message: str) -> str:
    """Twenty's message with every value that may be patient data removed, however quoted.

    Twenty quotes some values (`Invalid value 'X'`, `Key (col)=(value)`, `Invalid value:
    "X"`) and not others (`Provided phone number is invalid 4155550100`). So quoted values go,
    then anything left that looks like an email or holds a digit (record ids excepted: they
    are Twenty's, not the patient's), and whatever follows `is invalid`. A double-quoted
    name stays only where Twenty names a field: `field "x"`, `"x" field`, `any "x" field`.
    """
    text = _KEY_VALUE.sub("=(…)", _SINGLE_QUOTED.sub("'…'", message))
    text = _DOUBLE_QUOTED.sub(_field_or_value, text)
    text = _INVALID_TAIL.sub(r"\1 …", text)
    # Quoted parts are settled (a kept field name may hold digits: `addressStreet1`).
    parts = _QUOTED_PART.split(text)
    return "".join(
        part if i % 2 else _LOOSE_VALUE.sub(_loose, part) for i, part in enumerate(parts)
    )


def _loose(match: re.Match[str]) -> str:
    return match.group(0) if _UUID.fullmatch(match.group(0)) else "…"


def _field_or_value(match: re.Match[str]) -> str:
    before = match.string[: match.start()].rstrip().lower()
    after = match.string[match.end() :].lstrip().lower()
    name = match.group(1)
    is_field = before.endswith(("field", "subfield", "any", "column")) or after.startswith("field")
    return match.group(0) if is_field and _IDENTIFIER.fullmatch(name) else '"…"'


def _messages(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, Mapping):
        found = body.get("messages") or body.get("message") or body.get("error")
        if isinstance(found, list):
            return "; ".join(str(m) for m in found)
        if found:
            return str(found)
    return f"HTTP {response.status_code}"


def _code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("code") if isinstance(body, Mapping) else None
    return code if isinstance(code, str) else ""


def _too_many(response: httpx.Response, raw: str, text: str) -> BatchTooLargeError | None:
    """The refusal of an oversized request, with the limit Twenty named (if it named one).

    The limit is read from the raw message (`raw`); the error carries the redacted `text`.
    """
    match = _TOO_MANY.search(raw)
    if match is None and not _code(response).startswith("TOO_MANY_RECORDS"):
        return None
    limit = next((int(g) for g in match.groups() if g), None) if match else None
    return BatchTooLargeError(text, status=response.status_code, limit=limit)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = response.headers.get("date")
    now = parsedate_to_datetime(date) if date else None
    return max(0.0, (when - now).total_seconds()) if now else None


def classify(response: httpx.Response, *, record_id: str | None, key_env: str) -> Exception:
    """The port error an unsuccessful answer means (not for 429 or 5xx, handled above)."""
    status = response.status_code
    raw = _messages(response)
    text = redact(raw)
    if status == 401:
        return DestinationAuthError(
            f"Twenty refused the API key (401: {text}); check that ${key_env} holds a valid, "
            "unexpired key from Settings → APIs & Webhooks"
        )
    if status == 403:
        return DestinationAuthError(
            f"Twenty denied permission (403: {text}); give the API key's role read/write "
            "access to the objects being migrated"
        )
    if status == 402:
        return FatalForRunError(f"Twenty workspace quota exhausted (402: {text})")
    if status == 404:
        return RecordNotFoundError(f"record not found (404: {text})")
    if _SCHEMA_MISMATCH.search(text):
        return FatalForRunError(
            f"Twenty's data model does not match the mapping ({status}: {text}); "
            "run `ferry schema plan` and apply the missing objects and fields"
        )
    too_many = _too_many(response, raw, text)
    if too_many is not None:
        return too_many
    field_match = _FIELD.search(text)
    field = field_match.group(1) if field_match else None
    kind = DuplicateRecordError if "duplicate" in text.lower() else RecordRejectedError
    return kind(text, status=status, field=field, record_id=record_id)


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def tls_context(url: str, environ: Mapping[str, str]) -> ssl.SSLContext | bool:
    """The client's TLS verification: httpx's default, or for plain http a context trusting none.

    httpx builds its TLS context (loading certifi's bundle, ~0.1 s) when the client is made,
    even for an http:// base URL that never uses it. An empty PROTOCOL_TLS_CLIENT context
    still requires a verified certificate and hostname, so any TLS it ever meets fails
    closed instead of being weakened. With a proxy in the environment httpx reads (`environ`
    is os.environ; the proxy may itself be reached over TLS) and for https, httpx's own
    default is kept.
    """
    proxied = any(name in {key.lower() for key in environ} for name in _PROXY_VARIABLES)
    if url.lower().startswith("http://") and not proxied:
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


class Http:
    """The httpx session plus the request loop; holds the API key privately."""

    def __init__(
        self,
        settings: DestinationSettings,
        *,
        gate: RequestGate,
        environ: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        key = environ.get(settings.api_key_env, "").strip()
        if not key:
            raise DestinationAuthError(
                f"no Twenty API key: set the environment variable {settings.api_key_env}"
            )
        self.settings = settings
        self._gate = gate
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            base_url=settings.url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
            timeout=httpx.Timeout(settings.timeout_s),
            transport=transport,
            verify=tls_context(settings.url, os.environ),
        )
        self.requests = 0
        self.throttled = 0

    def __repr__(self) -> str:
        return f"Http(url={self.settings.url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    def backoff(self, attempt: int) -> float:
        """Exponential backoff from 1 s (capped at 60 s) with equal jitter."""
        ceiling = min(60.0, 2.0 ** (attempt - 1))
        return ceiling / 2 + self._rng.random() * ceiling / 2

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        write: bool,
        ids: Sequence[str] = (),
    ) -> Any:
        """Send one request and return its JSON body.

        Raises:
            RateLimitedError: still 429 after the allowed attempts.
            WriteOutcomeUnknownError: a write timed out, lost its connection or got a 5xx.
            RetryableError: a read kept failing the same way.
            RecordRejectedError, RecordNotFoundError, DestinationAuthError, FatalForRunError.
        """
        throttled = failures = 0
        while True:
            immediate = await self._gate.acquire()
            self.requests += 1
            try:
                response = await self._client.request(method, path, params=params, json=json)
            except httpx.TimeoutException as error:
                self._gate.answered(immediate)
                reason = f"timeout ({type(error).__name__})"
            except httpx.TransportError as error:
                self._gate.answered(immediate)
                reason = f"connection error ({type(error).__name__})"
            else:
                if response.status_code != 429:
                    self._gate.answered(immediate)
                if response.status_code < 300:
                    return response.json() if response.content else None
                if response.status_code == 429:
                    throttled += 1
                    self.throttled += 1
                    if throttled >= self.settings.max_throttled_attempts:
                        raise RateLimitedError(
                            f"Twenty still answers 429 after {throttled} attempts",
                            retry_after=_retry_after(response),
                        )
                    self._gate.throttled(_retry_after(response) or self.backoff(throttled))
                    continue
                if response.status_code in (501, 505):
                    raise FatalForRunError(
                        f"this Twenty server does not support {method} {path} "
                        f"(HTTP {response.status_code})"
                    )
                if response.status_code < 500:
                    record_id = ids[0] if len(ids) == 1 else None
                    key_env = self.settings.api_key_env
                    raise classify(response, record_id=record_id, key_env=key_env)
                reason = f"HTTP {response.status_code}"
            if write:
                raise WriteOutcomeUnknownError(reason, ids=ids)
            failures += 1
            if failures >= _READ_ATTEMPTS:
                raise RetryableError(f"Twenty read {method} {path} kept failing: {reason}")
            await self._sleep(self.backoff(failures))
