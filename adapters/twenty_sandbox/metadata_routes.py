"""The metadata REST routes `/rest/metadata/objects|fields[/{id}]` (reference §6.1)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from adapters.twenty_sandbox import metadata_fields as fields_api
from adapters.twenty_sandbox import metadata_objects as objects_api
from adapters.twenty_sandbox.data_routes import json_response
from adapters.twenty_sandbox.metadata_views import field_json, object_json
from adapters.twenty_sandbox.problems import ApiProblem, bad_request

_DEFAULT_LIMIT = 1000


async def handle_metadata(state: objects_api.MetadataState, request: Request) -> Response:
    """Dispatch one metadata request.

    Raises:
        ApiProblem: for every error answer.
    """
    segments = [s for s in request.url.path.removeprefix("/rest/metadata").split("/") if s]
    if not segments or segments[0] not in ("objects", "fields") or len(segments) > 2:
        raise bad_request(f'Metadata path "{"/".join(segments)}" does not exist')
    kind, item = segments[0], (segments[1] if len(segments) == 2 else None)
    method = request.method
    if method == "GET":
        return _read(state, request, kind, item)
    if method == "POST" and item is None:
        body = await _body(request)
        if kind == "objects":
            obj = objects_api.create_object(state, body)
            return _answer("createOneObject", object_json(state.schema(), obj), 201)
        field = fields_api.create_field(state, body)
        return _answer("createOneField", field_json(state.schema(), field), 201)
    if method in ("PATCH", "PUT") and item is not None:
        body = await _body(request)
        if kind == "objects":
            obj = objects_api.update_object(state, item, body)
            return _answer("updateOneObject", object_json(state.schema(), obj))
        field = fields_api.update_field(state, item, body)
        return _answer("updateOneField", field_json(state.schema(), field))
    if method == "DELETE" and item is not None:
        if kind == "objects":
            deleted = objects_api.delete_object(state, item)
            return _answer("deleteOneObject", {"id": deleted.id})
        removed = fields_api.delete_field(state, item)
        return _answer("deleteOneField", {"id": removed.id})
    raise bad_request(f"Method {method} is not supported on /rest/metadata/{kind}")


def _read(
    state: objects_api.MetadataState, request: Request, kind: str, item: str | None
) -> Response:
    schema = state.schema()
    if kind == "objects":
        if item is not None:
            return _answer("object", object_json(schema, objects_api.get_object(schema, item)))
        items = [object_json(schema, o) for o in schema.objects.values()]
    else:
        if item is not None:
            return _answer("field", field_json(schema, fields_api.get_field(schema, item)))
        items = [field_json(schema, f) for f in schema.fields.values()]
    page, info = _paginate(request, items)
    return json_response({"data": {kind: page}, "pageInfo": info, "totalCount": len(items)})


def _paginate(
    request: Request, items: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    params = request.query_params
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise bad_request("starting_after and ending_before cannot be used together")
    raw_limit = params.get("limit", str(_DEFAULT_LIMIT))
    if not raw_limit.isdecimal():
        raise bad_request(f"limit '{raw_limit}' is invalid. Should be an integer")
    limit = min(int(raw_limit), _DEFAULT_LIMIT)
    ids = [item["id"] for item in items]
    start, end = 0, len(items)
    if after:
        start = _cursor_index(ids, after) + 1
    if before:
        end = _cursor_index(ids, before)
        start = max(0, end - limit)
    page = items[start : min(end, start + limit)]
    info = {
        "hasNextPage": start + len(page) < len(items),
        "hasPreviousPage": start > 0,
        "startCursor": page[0]["id"] if page else None,
        "endCursor": page[-1]["id"] if page else None,
    }
    return page, info


def _cursor_index(ids: list[str], cursor: str) -> int:
    if cursor not in ids:
        raise ApiProblem(400, f"Invalid cursor: '{cursor}'")
    return ids.index(cursor)


def _answer(key: str, value: Any, status: int = 200) -> Response:
    return json_response({"data": {key: value}}, status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return msgspec.json.decode(raw) if raw else {}
    except msgspec.DecodeError:
        raise bad_request("Invalid JSON in request body") from None
