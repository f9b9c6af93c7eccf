"""The accounts part of the OpenAPI document: sign-in, one's own account, tokens, admin routes.

Merged into ``persona.server.openapi.build_openapi``. In accounts mode every other ``/api``
route needs a person: the session cookie (with ``X-CSRF-Token`` on state-changing requests) or a
personal access token (``Authorization: Bearer prs_...``).
"""

from __future__ import annotations

from typing import Any

from persona.server.openapi_parts import ERROR, body, json_answer, list_of, obj, path_param, ref


def _op(summary: str, responses: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, "4XX": ERROR}}
    if request is not None:
        op["requestBody"] = request
    return op


_NO_CONTENT = {"204": {"description": "done"}}
_CREDENTIALS = body(
    {"username": {"type": "string", "maxLength": 32}, "password": {"type": "string", "maxLength": 256}},
    ["username", "password"],
)
_USER_ID = path_param("user_id")
_TOKEN_ID = path_param("token_id")
_SIGNED_IN = json_answer(
    obj({"user": ref("Me"), "csrf_token": {"type": "string"}}),
    "signed in; the answer sets the session cookie",
)
_PERSON_CHANGE = body(
    {
        "admin": {"type": "boolean"},
        "disabled": {"type": "boolean"},
        "quota_bytes": {"type": ["integer", "null"]},
        "quota_gb": {"type": ["number", "null"]},
        "quota_models": {
            "type": ["integer", "null"],
            "description": "most models (null: the default; 0: none)",
        },
        "quota_jobs": {
            "type": ["integer", "null"],
            "description": "most queued or running jobs (null: default)",
        },
        "password": {"type": "string"},
    }
)


def account_paths() -> dict[str, Any]:
    return {
        "/api/session": {
            "get": _op(
                "Accounts on? Who is signed in (and the CSRF token), may this browser make the first admin",
                {"200": json_answer(ref("SessionProbe"))},
            ),
            "post": _op(
                "Sign in (throttled per name and per address; the same 401 for any wrong pair)",
                {"200": _SIGNED_IN},
                _CREDENTIALS,
            ),
            "delete": _op("Sign out (the session ends in every web process)", _NO_CONTENT),
        },
        "/api/setup": {
            "post": _op(
                "Make the first administrator (no account yet, a browser on the server's machine only)",
                {"201": _SIGNED_IN},
                _CREDENTIALS,
            )
        },
        "/api/me": {
            "get": _op("The signed-in person with usage and quota", {"200": json_answer(ref("Me"))}),
            "delete": _op(
                "Delete my account and all my data (with my password)",
                _NO_CONTENT,
                body({"password": {"type": "string"}}, ["password"]),
            ),
        },
        "/api/me/password": {
            "post": _op(
                "Change my password (with the current one; 403 password_wrong, 400 password_weak; "
                "failures throttled like sign-in). Every other session ends, this browser gets a "
                "fresh session and CSRF token (null when asked with a token); tokens stay",
                {"200": _SIGNED_IN},
                body(
                    {
                        "current_password": {"type": "string", "maxLength": 256},
                        "new_password": {"type": "string", "maxLength": 256},
                    },
                    ["current_password", "new_password"],
                ),
            )
        },
        "/api/tokens": {
            "get": _op("My personal access tokens", {"200": list_of("Token")}),
            "post": _op(
                "A new personal access token (its secret 'token' is in this answer only)",
                {"201": json_answer(ref("NewToken"))},
                body({"label": {"type": "string", "maxLength": 64}}),
            ),
        },
        "/api/tokens/{token_id}": {
            "delete": {**_op("Revoke one of my tokens", _NO_CONTENT), "parameters": [_TOKEN_ID]}
        },
        "/api/admin/users": {
            "get": _op("Everyone (administrators)", {"200": list_of("Person")}),
            "post": _op(
                "Add a person (administrators)",
                {"201": json_answer(ref("Person"))},
                body(
                    {
                        "username": {"type": "string"},
                        "password": {"type": "string"},
                        "admin": {"type": "boolean"},
                        "quota_gb": {"type": ["number", "null"]},
                    },
                    ["username", "password"],
                ),
            ),
        },
        "/api/admin/users/{user_id}": {
            "parameters": [_USER_ID],
            "get": _op("One person (administrators)", {"200": json_answer(ref("Person"))}),
            "patch": _op(
                "Change role, disable or enable, quota, password (administrators)",
                {"200": json_answer(ref("Person"))},
                _PERSON_CHANGE,
            ),
            "delete": _op("Delete a person and all their data (administrators)", _NO_CONTENT),
        },
        "/api/admin/jobs": {
            "get": _op(
                "Everyone's queued and running jobs, with their owners (administrators)",
                {"200": list_of("Job")},
            )
        },
    }


def account_schemas() -> dict[str, Any]:
    person = obj(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "admin": {"type": "boolean"},
            "disabled": {"type": "boolean"},
            "quota_bytes": {"type": ["integer", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "usage": {"type": "object", "description": "{bytes, ...} stored by the person"},
            "quota": {"type": "object", "description": "{bytes, ...} limits (null: none)"},
        }
    )
    token = obj(
        {
            "id": {"type": "string"},
            "label": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "last_used_at": {"type": ["string", "null"], "format": "date-time"},
        }
    )
    return {
        "Person": person,
        "Me": {**person, "properties": {**person["properties"], "username": {"type": "string"}}},
        "Token": token,
        "NewToken": {**token, "properties": {**token["properties"], "token": {"type": "string"}}},
        "SessionProbe": obj(
            {
                "accounts": {"type": "boolean", "description": "accounts mode is on"},
                "signed_in": {"type": "boolean"},
                "user": {"oneOf": [ref("Me"), {"type": "null"}]},
                "setup": {"type": "boolean", "description": "this browser may make the first admin"},
                "csrf_token": {"type": ["string", "null"]},
            }
        ),
    }
