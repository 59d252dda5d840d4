"""Twenty's REST metadata API: objects and fields (reference §6).

Answers come in the legacy shape (`data.objects`, `data.createOneField`, ...) or the newer
direct shape (`data` is the list or the object itself); both are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.twenty._http import Http
from core.ports.destination import FieldInfo, ObjectInfo, OptionInfo

_PAGE = 200


def _unwrap(body: Any, key: str) -> Any:
    data = body.get("data") if isinstance(body, Mapping) else None
    if isinstance(data, Mapping) and key in data:
        return data[key]
    return data


def _relation_target(field: Mapping[str, Any]) -> str | None:
    relation = field.get("relation") or {}
    target = relation.get("targetObjectMetadata") or {}
    name = target.get("nameSingular")
    return str(name) if name else None


def parse_field(field: Mapping[str, Any]) -> FieldInfo:
    """A metadata field answer as a FieldInfo."""
    options = field.get("options") or []
    return FieldInfo(
        id=str(field.get("id", "")),
        name=str(field["name"]),
        type=str(field.get("type", "")),
        label=str(field.get("label") or ""),
        is_custom=bool(field.get("isCustom")),
        is_unique=bool(field.get("isUnique")),
        is_nullable=field.get("isNullable") is not False,
        options=tuple(str(o["value"]) for o in options if isinstance(o, Mapping)),
        relation_target=_relation_target(field),
        option_details=tuple(
            _parse_option(o, i) for i, o in enumerate(options) if isinstance(o, Mapping)
        ),
    )


def _parse_option(option: Mapping[str, Any], index: int) -> OptionInfo:
    position = option.get("position")
    return OptionInfo(
        id=str(option.get("id") or ""),
        value=str(option["value"]),
        label=str(option.get("label") or option["value"]),
        color=str(option.get("color") or ""),
        position=position if isinstance(position, int) else index,
    )


def parse_object(obj: Mapping[str, Any]) -> ObjectInfo:
    """A metadata object answer (fields inlined or not) as an ObjectInfo."""
    fields = obj.get("fields") or []
    if isinstance(fields, Mapping):  # GraphQL-style edges
        fields = [edge["node"] for edge in fields.get("edges", [])]
    return ObjectInfo(
        id=str(obj.get("id", "")),
        name_singular=str(obj["nameSingular"]),
        name_plural=str(obj["namePlural"]),
        label_singular=str(obj.get("labelSingular") or ""),
        is_custom=bool(obj.get("isCustom")),
        fields=tuple(parse_field(f) for f in fields),
    )


class MetadataApi:
    """Data-model operations; mixed into `TwentyClient`."""

    _http: Http

    async def list_objects(self) -> list[ObjectInfo]:
        """Every object with its fields."""
        objects: list[ObjectInfo] = []
        cursor: str | None = None
        while True:
            params = {"limit": str(_PAGE)}
            if cursor:
                params["starting_after"] = cursor
            body = await self._http.request(
                "GET", "/rest/metadata/objects", params=params, write=False
            )
            page = _unwrap(body, "objects") or []
            objects.extend(parse_object(o) for o in page)
            info = body.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
            if not cursor or not page:
                return objects

    async def create_object(self, body: Mapping[str, Any]) -> ObjectInfo:
        """Create a custom object.

        Raises:
            RecordRejectedError: Twenty refused the definition (name rules, duplicates).
        """
        answer = await self._http.request(
            "POST", "/rest/metadata/objects", json=dict(body), write=True
        )
        return parse_object(_unwrap(answer, "createOneObject"))

    async def create_field(self, body: Mapping[str, Any]) -> FieldInfo:
        """Create a field (a RELATION body creates the inverse field too).

        Raises:
            RecordRejectedError: Twenty refused the definition.
        """
        answer = await self._http.request(
            "POST", "/rest/metadata/fields", json=dict(body), write=True
        )
        return parse_field(_unwrap(answer, "createOneField"))

    async def update_field(self, field_id: str, body: Mapping[str, Any]) -> FieldInfo:
        """Change a field (label, options, ...).

        Raises:
            RecordRejectedError: Twenty refused the change.
        """
        answer = await self._http.request(
            "PATCH", f"/rest/metadata/fields/{field_id}", json=dict(body), write=True
        )
        return parse_field(_unwrap(answer, "updateOneField"))

    async def delete_field(self, field_id: str) -> None:
        """Delete a field."""
        await self._http.request("DELETE", f"/rest/metadata/fields/{field_id}", write=True)

    async def delete_object(self, object_id: str) -> None:
        """Deactivate then delete a custom object (Twenty refuses deleting an active one)."""
        path = f"/rest/metadata/objects/{object_id}"
        await self._http.request("PATCH", path, json={"isActive": False}, write=True)
        await self._http.request("DELETE", path, write=True)
