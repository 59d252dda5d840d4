"""The core REST routes `/rest/...`: Twenty's path rules, query parameters and envelopes (§2)."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from adapters.twenty_sandbox import mutations
from adapters.twenty_sandbox.paging import parse_depth, parse_limit
from adapters.twenty_sandbox.problems import ApiProblem, bad_request
from adapters.twenty_sandbox.records import ListQuery, Records
from adapters.twenty_sandbox.schema import ObjectMeta, Schema, capitalize
from adapters.twenty_sandbox.values import is_valid_uuid

_encode = msgspec.json.Encoder().encode
_NOT_EMULATED = {"duplicates", "groupBy", "merge"}


class DataState(Protocol):
    """What the data routes need from the app."""

    records: Records
    batch_max: int
    mutation_max: int

    def schema(self) -> Schema:
        """The current metadata snapshot."""
        ...


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response encoded with msgspec."""
    return Response(
        _encode(body), status_code=status, headers=headers, media_type="application/json"
    )


def _invalid_path(path: str) -> ApiProblem:
    return bad_request(
        f"Query path '{path}' invalid. Valid examples: /rest/companies/id or /rest/companies "
        "or /rest/batch/companies"
    )


def _admit(request: Request) -> None:
    """Spend the request's token now that its object is known (see `gate.Gate.admit`)."""
    admit = request.scope.get("sandbox", {}).get("admit")
    if admit is not None:
        admit()


async def _parse_early(request: Request) -> None:
    """Refuse bad JSON, `depth` or `limit` before the object lookup, as Twenty does.

    Twenty's body parser and its REST handlers' parameter parsing run before the object
    lookup and the throttle, so such a request spends no token.
    """
    if request.method in ("POST", "PATCH", "PUT"):
        await _body(request)
    params = request.query_params
    parse_depth(params.get("depth"))
    if request.method == "GET":
        parse_limit(params.get("limit"))


def find_object(schema: Schema, name: str) -> ObjectMeta:
    """The active object whose plural is `name`.

    Raises:
        ApiProblem: 400 with Twenty's hint when a singular name was used.
    """
    obj = schema.by_plural.get(name)
    if obj is not None:
        return obj
    singular = schema.by_singular.get(name)
    if singular is not None and singular.is_active:
        raise bad_request(f"object '{name}' not found. Did you mean '{singular.name_plural}'?")
    raise bad_request(f"object '{name}' not found. eg: companies")


async def handle_data(state: DataState, request: Request) -> Response:
    """Dispatch one `/rest/...` data request.

    Raises:
        ApiProblem: for every error answer.
    """
    raw_path = request.url.path
    segments = [s for s in raw_path.removeprefix("/rest").split("/") if s]
    method = request.method
    if not segments or len(segments) > 3:
        raise _invalid_path(raw_path)
    await _parse_early(request)
    if segments[0] == "batch":
        if len(segments) != 2 or method != "POST":
            raise _invalid_path(raw_path)
        obj = find_object(state.schema(), segments[1])
        _admit(request)
        return await _create(state, request, obj, batch=True)
    if segments[0] == "restore" and method == "PATCH" and len(segments) in (2, 3):
        # The 1.x prefix form the official 1.18 client calls; see docs/sandbox.md.
        return await _restore(state, request, segments[1], segments[2:])
    if method == "PATCH" and segments[-1] == "restore" and len(segments) in (2, 3):
        return await _restore(state, request, segments[0], segments[1:-1])
    if len(segments) == 3:
        raise _invalid_path(raw_path)
    obj = find_object(state.schema(), segments[0])
    _admit(request)
    if len(segments) == 2 and segments[1] in _NOT_EMULATED:
        raise ApiProblem(501, f"'{segments[1]}' is not emulated by the Ferry sandbox")
    record_id = _record_id(segments[1]) if len(segments) == 2 else None
    return await _dispatch(state, request, obj, record_id, raw_path)


def _record_id(segment: str) -> str:
    if not is_valid_uuid(segment):
        raise bad_request(f"'{segment}' is not a valid UUID")
    return segment.lower()


async def _dispatch(
    state: DataState, request: Request, obj: ObjectMeta, record_id: str | None, raw_path: str
) -> Response:
    method, params = request.method, request.query_params
    records = state.records
    if method == "GET":
        return _find(state, request, obj, record_id)
    if method == "POST":
        if record_id is not None:
            raise _invalid_path(raw_path)
        return await _create(state, request, obj, batch=False)
    if method in ("PATCH", "PUT"):
        body = await _body(request)
        depth = parse_depth(params.get("depth"))  # Twenty's update suite: 400 for depth 2
        if record_id is None:
            updated = mutations.update_many(
                records, obj, params.get("filter"), body, cap=state.mutation_max
            )
            return _wrote(request, "update", obj, records.embed(obj, updated, depth), many=True)
        record = mutations.update_one(records, obj, record_id, body)
        (record,) = records.embed(obj, [record], depth)
        return _wrote(request, "update", obj, record, many=False)
    if method == "DELETE":
        soft = params.get("soft_delete") == "true"
        if record_id is None:
            deleted = mutations.delete_many(
                records, obj, params.get("filter"), soft=soft, cap=state.mutation_max
            )
            return _wrote(request, "delete", obj, deleted, many=True)
        record = mutations.delete_one(records, obj, record_id, soft=soft)
        return _wrote(request, "delete", obj, record, many=False)
    raise ApiProblem(405, f"Method {method} not allowed", error="MethodNotAllowedException")


def _find(state: DataState, request: Request, obj: ObjectMeta, record_id: str | None) -> Response:
    params = request.query_params
    depth = parse_depth(params.get("depth"))
    if record_id is not None:
        record = state.records.find_one(obj, record_id, depth)
        return json_response({"data": {obj.name_singular: record}})
    query = ListQuery(
        filter=params.get("filter"),
        order_by=params.get("order_by"),
        limit=parse_limit(params.get("limit")),
        starting_after=params.get("starting_after"),
        ending_before=params.get("ending_before"),
    )
    page = state.records.find_many(obj, query, depth)
    return json_response(
        {
            "data": {obj.name_plural: page.records},
            "pageInfo": page.page_info,
            "totalCount": page.total,
        }
    )


async def _create(state: DataState, request: Request, obj: ObjectMeta, *, batch: bool) -> Response:
    if obj.name_singular == "workspaceMember":
        raise ApiProblem(
            403,
            "Entity performing the request does not have permission",
            error="ForbiddenException",
            code="PERMISSION_DENIED",
        )
    body = await _body(request)
    if batch:
        if not isinstance(body, list):
            raise bad_request("Body must be an array")
        if not body:
            raise bad_request("Input must not be empty")
        if len(body) > state.batch_max:
            raise bad_request(f"Maximum number of records to upsert is {state.batch_max}.")
    upsert = request.query_params.get("upsert") == "true"
    depth = parse_depth(request.query_params.get("depth"))
    created = state.records.create(obj, body if batch else [body], upsert=upsert)
    created = state.records.embed(obj, created, depth)
    return _wrote(request, "create", obj, created if batch else created[0], many=batch)


async def _restore(state: DataState, request: Request, plural: str, rest: list[str]) -> Response:
    obj = find_object(state.schema(), plural)
    _admit(request)
    if rest:
        record = mutations.restore_one(state.records, obj, _record_id(rest[0]))
        return _wrote(request, "restore", obj, record, many=False)
    restored = mutations.restore_many(state.records, obj, request.query_params.get("filter"))
    return _wrote(request, "restore", obj, restored, many=True)


def _wrote(request: Request, verb: str, obj: ObjectMeta, result: Any, *, many: bool) -> Response:
    """Envelope a committed write and mark it for the drop-after-commit fault.

    `?fields=a,b` projects create and restore answers (Twenty's field-projection suite);
    what is stored is unchanged.
    """
    request.scope.setdefault("sandbox", {})["committed"] = True
    fields = request.query_params.get("fields")
    if fields and verb in ("create", "restore"):
        names = [name.strip() for name in fields.split(",") if name.strip()]
        result = [_project(r, names) for r in result] if many else _project(result, names)
    name = capitalize(obj.name_plural if many else obj.name_singular)
    return json_response({"data": {f"{verb}{name}": result}}, 201 if verb == "create" else 200)


def _project(record: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: record[name] for name in names if name in record}


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return msgspec.json.decode(raw) if raw else {}
    except msgspec.DecodeError:
        raise bad_request("Invalid JSON in request body") from None
