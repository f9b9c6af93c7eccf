"""The pieces the OpenAPI document is written with (``openapi`` and ``openapi_accounts`` both).

Small constructors for what every path and schema repeats (an object schema, a JSON answer, a
list of one schema, a request body, a path parameter), so each is spelled one way.
"""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """An object schema (``required`` left out when empty); ``extra``: description and the like."""
    schema: dict[str, Any] = {"type": "object", **extra, "properties": properties}
    if required:
        schema["required"] = required
    return schema


def json_answer(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def list_of(name: str) -> dict[str, Any]:
    """A JSON answer listing schema ``name``."""
    return json_answer({"type": "array", "items": ref(name)})


def body(
    properties: dict[str, Any], required: list[str] | None = None, content_type: str = "application/json"
) -> dict[str, Any]:
    """A required request body: an object of ``properties`` (a form upload: multipart/form-data)."""
    return {"required": True, "content": {content_type: {"schema": obj(properties, required)}}}


def form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A form upload's request body."""
    return body(properties, required, "multipart/form-data")


def path_param(name: str, description: str | None = None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    if description is not None:
        param["description"] = description
    return param
