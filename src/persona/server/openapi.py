"""The OpenAPI 3.1 document served at ``GET /api/openapi.json`` (every ``/api`` route; a test checks).

Training and cover parameters (ranges, choices, defaults) come from the request types' own
descriptions (``TRAIN_PARAMS``, ``COVER_PARAMS``), as does the ``options`` block of the health answer.
"""

from __future__ import annotations

from typing import Any

from persona import __version__
from persona.cover.request import COVER_PARAMS
from persona.jobs.kinds import KINDS, JobKind
from persona.jobs.public import EVENTS, JOB_SCHEMA
from persona.library.merge import WEIGHT
from persona.names import MAX_NAME_CHARS
from persona.params import Param, default_of
from persona.server.api_jobs import LIST_DEFAULT, LIST_MAX
from persona.server.openapi_accounts import account_paths, account_schemas
from persona.server.openapi_parts import ERROR, body, form, json_answer, list_of, obj, path_param, ref
from persona.settings import Settings
from persona.training.request import TRAIN_PARAMS


def param_schema(spec: Param) -> dict[str, Any]:
    """A request parameter as a JSON schema (a form field's value), from its own description."""
    d = spec.describe()
    schema = {"type": d["type"], "default": d["default"]}
    if "min" in d:
        schema.update(minimum=d["min"], maximum=d["max"])
    if "choices" in d:
        schema["enum"] = d["choices"]
    return schema


def _options_schema(params: dict[str, Param]) -> dict[str, Any]:
    return obj({k: {"type": "object"} for k in params})


def _result_name(kind: JobKind) -> str:
    return f"{kind.name.capitalize()}Result"


def _result_schema() -> dict[str, Any]:
    """A job's ``result``: its kind's (``persona.jobs.kinds``), or null while it runs."""
    return {"oneOf": [*(ref(_result_name(k)) for k in KINDS.values()), {"type": "null"}]}


def _events() -> str:
    return ", ".join(f"{name} {{{', '.join(fields)}}}" for name, fields in EVENTS.items())


def _kinds() -> str:
    return "; ".join(
        f"{k.name} ({k.summary}; queued by POST {k.route}; stages {', '.join(k.stage_names())})"
        for k in KINDS.values()
    )


def _queued(kind: str) -> dict[str, Any]:
    return json_answer(ref("Queued"), f"Queued: a {kind} job ({KINDS[kind].summary})")


def _op(method: str, summary: str, responses: dict[str, Any], *params: dict[str, Any]) -> dict[str, Any]:
    """A path with one operation: ``{parameters?, method: {summary, responses}}``."""
    out: dict[str, Any] = {"parameters": list(params)} if params else {}
    return {**out, method: {"summary": summary, "responses": responses}}


def _export_paths() -> dict[str, Any]:
    """Taking one's data (``persona.server.api_export``)."""
    added = {"type": "array", "items": {"type": "string"}}
    return {
        "/api/me/export": {
            "get": {
                "summary": "All of my data as one zip (models, covers, trainings with saves and previews, "
                "finished jobs; persona-export.json says what is inside)",
                "responses": {
                    "200": {
                        "description": "the zip",
                        "content": {"application/zip": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/api/me/import": {
            "post": {
                "summary": "Add a Persona export zip to my library (a name I have already gets ' (2)')",
                "requestBody": form({"file": {"type": "string", "format": "binary"}}, ["file"]),
                "responses": {
                    "201": json_answer(
                        obj({"models": added, "covers": added, "trainings": added}), "What was added"
                    ),
                    "400": ERROR,
                    "413": ERROR,
                    "429": ERROR,
                },
            }
        },
    }


def build_openapi() -> dict[str, Any]:
    name_p = path_param("name", "model name (URL-encoded; any script)")
    cover_p = path_param("cover_id", "cover id (12 hex digits)")
    job_p = path_param("job_id", "job id")
    epoch_p = path_param("epoch", "epoch of a save, or 'source'")
    _wav = {
        "200": {"description": "audio/wav", "content": {"audio/wav": {}}},
        "206": {"description": "partial audio", "content": {"audio/wav": {}}},
    }
    cover_props = {k: param_schema(v) for k, v in COVER_PARAMS.items()}
    cover_props.update({"song": {"type": "string", "format": "binary"}, "model": {"type": "string"}})
    train_props = {k: param_schema(v) for k, v in TRAIN_PARAMS.items()}
    train_props.update(
        {
            "files": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "minItems": 1,
                "maxItems": default_of(Settings, "max_training_files"),
                "description": "at most GET /api/health limits.max_training_files (default shown)",
            },
            "name": {"type": "string", "maxLength": MAX_NAME_CHARS},
            "consent": {
                "type": "string",
                "format": "binary",
                "description": "the consent sentence read live (a MediaRecorder WebM/Ogg/MP4 clip); "
                "required when GET /api/health says consent.required",
            },
            "consent_challenge": {
                "type": "string",
                "description": "the id from POST /api/consent/challenges",
            },
        }
    )
    paths: dict[str, Any] = {
        "/api/health": {
            "get": {"summary": "Server status", "responses": {"200": json_answer(ref("Health"))}}
        },
        "/api/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": json_answer({"type": "object"})}}
        },
        "/api/models": {
            "get": {
                "summary": "List models",
                "responses": {"200": list_of("Model")},
            }
        },
        "/api/models/{name}": {
            "parameters": [name_p],
            "get": {"summary": "One model", "responses": {"200": json_answer(ref("Model")), "404": ERROR}},
            "delete": {
                "summary": "Delete a model (409 while a job uses it)",
                "responses": {"204": {"description": "Deleted"}, "404": ERROR, "409": ERROR},
            },
        },
        "/api/models/upload": {
            "post": {
                "summary": "Import an RVC model .zip (.pth + optional .index, anywhere inside)",
                "requestBody": form(
                    {
                        "file": {"type": "string", "format": "binary"},
                        "name": {"type": "string"},
                        "rights_confirmed": {
                            "type": "boolean",
                            "description": "the person may use this voice (required when "
                            "consent is required)",
                        },
                    },
                    ["file"],
                ),
                "responses": {
                    "201": json_answer(ref("Model"), "Imported"),
                    "400": ERROR,
                    "409": ERROR,
                    "413": ERROR,
                },
            }
        },
        "/api/consent/challenges": {
            "post": {
                "summary": "A one-time sentence to read aloud (live) before training a model of this name",
                "requestBody": body({"model_name": {"type": "string", "maxLength": 64}}, ["model_name"]),
                "responses": {
                    "201": json_answer(
                        obj(
                            {
                                "id": {"type": "string"},
                                "sentence": {"type": "string"},
                                "expires_at": {"type": "number"},
                                "required": {"type": "boolean"},
                            }
                        ),
                        "A sentence",
                    ),
                    "400": ERROR,
                    "409": ERROR,
                },
            }
        },
        "/api/models/merge": {
            "post": {
                "summary": "Blend two compatible models into a new one (model fusion)",
                "requestBody": body(
                    {
                        "a": {"type": "string"},
                        "b": {"type": "string"},
                        "weight": param_schema(WEIGHT),
                        "name": {"type": "string"},
                    },
                    ["a", "b", "name"],
                ),
                "responses": {
                    "201": json_answer(ref("Model"), "Merged"),
                    "400": ERROR,
                    "404": ERROR,
                    "409": ERROR,
                },
            }
        },
        "/api/models/{name}/download": {
            "parameters": [name_p],
            "get": {
                "summary": "The model as a .zip (<name>.pth + its .index)",
                "responses": {
                    "200": {
                        "description": "zip",
                        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "404": ERROR,
                },
            },
        },
        "/api/trainings": {
            "post": {
                "summary": "Train a voice model from 1-5 recordings (queues a job)",
                "requestBody": form(train_props, ["files", "name", "epochs"]),
                "responses": {"202": _queued("train"), "400": ERROR, "409": ERROR, "413": ERROR},
            }
        },
        "/api/covers": {
            "get": {
                "summary": "List covers",
                "responses": {"200": list_of("Cover")},
            },
            "post": {
                "summary": "Make a cover of a song with a model (queues a job)",
                "requestBody": form(cover_props, ["song", "model"]),
                "responses": {"202": _queued("cover"), "400": ERROR, "404": ERROR, "413": ERROR},
            },
        },
        "/api/covers/{cover_id}": {
            "parameters": [cover_p],
            "get": {"summary": "One cover", "responses": {"200": json_answer(ref("Cover")), "404": ERROR}},
            "delete": {
                "summary": "Delete a cover",
                "responses": {"204": {"description": "Deleted"}, "404": ERROR},
            },
        },
        "/api/covers/{cover_id}/audio": {
            "parameters": [cover_p],
            "get": {
                "summary": "The cover audio inline; honours Range (206 Partial Content)",
                "parameters": [{"name": "Range", "in": "header", "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "audio", "content": {"audio/*": {}}},
                    "206": {"description": "partial audio", "content": {"audio/*": {}}},
                    "404": ERROR,
                    "416": {"description": "Range not satisfiable"},
                },
            },
        },
        "/api/covers/{cover_id}/original": {
            "parameters": [cover_p],
            "get": {
                "summary": "The song as uploaded (for A/B comparison); honours Range",
                "responses": {
                    "200": {"description": "audio", "content": {"audio/*": {}}},
                    "206": {"description": "partial audio", "content": {"audio/*": {}}},
                    "404": ERROR,
                },
            },
        },
        "/api/covers/{cover_id}/download": _op(
            "get",
            "The cover audio as an attachment",
            {"200": {"description": "audio", "content": {"audio/*": {}}}, "404": ERROR},
            cover_p,
        ),
        "/api/detect": {
            "post": {
                "summary": "Does an audio file carry Persona's AI watermark? (open to anyone)",
                "requestBody": form({"file": {"type": "string", "format": "binary"}}, ["file"]),
                "responses": {"200": json_answer(ref("Detection")), "400": ERROR, "413": ERROR},
            }
        },
        "/api/jobs": {
            "get": {
                "summary": "List jobs, newest first",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "comma-separated statuses",
                    },
                    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(KINDS)}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": LIST_MAX,
                            "default": LIST_DEFAULT,
                        },
                    },
                ],
                "responses": {"200": list_of("Job"), "400": ERROR},
            }
        },
        "/api/jobs/{job_id}": {
            "parameters": [job_p],
            "get": {
                "summary": "One job's state",
                "responses": {"200": json_answer(ref("Job")), "404": ERROR},
            },
        },
        "/api/jobs/{job_id}/audio": {
            "parameters": [job_p],
            "get": {
                "summary": "A cover job's playable part while it is made (metrics.ready_s seconds, a WAV "
                "growing piece by piece), the finished cover once it succeeded; honours Range",
                "parameters": [{"name": "Range", "in": "header", "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "audio", "content": {"audio/*": {}}},
                    "206": {"description": "partial audio", "content": {"audio/*": {}}},
                    "404": ERROR,
                    "409": ERROR,
                    "416": {"description": "Range not satisfiable"},
                },
            },
        },
        "/api/jobs/{job_id}/training": _op(
            "get",
            "A training's saves: losses per epoch, metrics and preview per save, the chosen save and why",
            {"200": json_answer(ref("TrainingSaves")), "404": ERROR},
            job_p,
        ),
        "/api/jobs/{job_id}/previews/{epoch}": _op(
            "get",
            "The held-out slice converted at that save ('source': the slice itself); honours Range",
            {**_wav, "404": ERROR},
            job_p,
            epoch_p,
        ),
        "/api/models/{name}/saves": _op(
            "get",
            "The saves of the training that made this model",
            {"200": json_answer(ref("TrainingSaves")), "404": ERROR},
            name_p,
        ),
        "/api/models/{name}/previews/{epoch}": _op(
            "get", "A save's preview of this model's training", {**_wav, "404": ERROR}, name_p, epoch_p
        ),
        "/api/models/{name}/saves/{epoch}/export": _op(
            "post",
            "Make a kept save the library model instead of the one the training chose",
            {"200": json_answer(ref("Model")), "404": ERROR, "409": ERROR},
            name_p,
            path_param("epoch", "epoch of a kept save"),
        ),
        "/api/jobs/{job_id}/cancel": _op(
            "post",
            "Stop a training (keeps the last saved model) or cancel a cover; the shared weights "
            "download only by an administrator (403 `admin_required`)",
            {"202": json_answer(ref("Job"), "Cancelling"), "403": ERROR, "404": ERROR, "409": ERROR},
            job_p,
        ),
        "/api/assets": {
            "get": {
                "summary": "Pretrained weights a default training and cover lack (names, sizes), "
                "the CLI command for offline machines, the download job if one runs (the server's "
                "job: everyone signed in follows it, its `params` only for administrators), and "
                "`can_download`: whether this person may start it",
                "responses": {"200": json_answer({"type": "object"})},
            }
        },
        "/api/assets/needs": {
            "get": {
                "summary": "What a job of `kind` (train|cover) with these options (query, as its form) lacks",
                "parameters": [
                    {"name": "kind", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": json_answer({"type": "object"}), "400": ERROR},
            }
        },
        "/api/assets/download": {
            "post": {
                "summary": "Queue a download job (kind `assets`) for `names` (JSON), default: what is "
                "missing; answers the running one if there is one. Progress: bytes_done, "
                "bytes_total, bytes_per_s, eta_s. In accounts mode administrators only (403 "
                "`admin_required`)",
                "responses": {
                    "202": _queued("assets"),
                    "200": json_answer(ref("Queued"), "The download job already queued or running"),
                    "400": ERROR,
                    "403": ERROR,
                },
            }
        },
    }
    schemas = {
        "Error": obj(
            {
                "error": obj(
                    {"code": {"type": "string"}, "message": {"type": "string"}, "params": {"type": "object"}},
                    ["code", "message"],
                )
            }
        ),
        "Health": obj(
            {
                "status": {"type": "string"},
                "version": {"type": "string"},
                "device": {"type": "string"},
                "assets": {"type": "object", "additionalProperties": {"type": "boolean"}},
                "jobs": {"type": "object", "description": "{queued, running} counts"},
                "workers": {
                    "type": "array",
                    "description": "live job workers (fresh heartbeat): host, pid, device, memory, queue",
                    "items": {"type": "object"},
                },
                "auth": {"type": "boolean"},
                "limits": {"type": "object"},
                "options": obj(
                    {
                        "train": _options_schema(TRAIN_PARAMS),
                        "cover": _options_schema(COVER_PARAMS),
                        "stages": obj(
                            {k: {"type": "array", "items": {"type": "string"}} for k in KINDS},
                            description="per job kind, its stages in the order they run",
                        ),
                    },
                    description="what a training and a cover take: per parameter {type, min, max, default} "
                    "or {type, choices, default} or {type, default}, as in the TrainForm and CoverForm schemas",
                ),
            }
        ),
        "TrainForm": obj({k: param_schema(v) for k, v in TRAIN_PARAMS.items()}),
        "CoverForm": obj({k: param_schema(v) for k, v in COVER_PARAMS.items()}),
        "Model": obj(
            {
                "name": {"type": "string"},
                "version": {"type": "string", "enum": ["v1", "v2"]},
                "sample_rate": {"type": "integer"},
                "f0": {"type": "boolean"},
                "has_index": {"type": "boolean"},
                "source": {"type": "string", "description": "upload | trained | fixture"},
                "created_at": {"type": "string", "format": "date-time"},
                "size_bytes": {"type": "integer"},
                "note": {"type": "string", "description": "which files a zip import took"},
            }
        ),
        "Cover": obj(
            {
                "id": {"type": "string"},
                "model": {"type": "string"},
                "song_name": {"type": "string"},
                "pitch": {
                    "type": "number",
                    "description": "the shift the cover was made with (semitones): with pitch_auto, the one chosen",
                },
                "pitch_auto": {"type": "boolean", "description": "the server chose the pitch"},
                "suggested_pitch": {"type": ["integer", "null"]},
                "created_at": {"type": "string", "format": "date-time"},
                "duration_s": {"type": ["number", "null"]},
                "filename": {"type": "string"},
                "audio_url": {"type": "string"},
                "download_url": {"type": "string"},
                "provenance": {
                    "type": ["object", "null"],
                    "description": "what the file carries: watermark, signed C2PA manifest, player tags",
                    "properties": {k: {"type": "boolean"} for k in ("watermark", "c2pa", "tags")},
                },
            }
        ),
        "Detection": obj(
            {
                "file": {"type": "string", "description": "the uploaded file's name"},
                "marked": {"type": "boolean", "description": "carries Persona's watermark"},
                "score": {"type": "number", "description": "detection score; marked at threshold or above"},
                "threshold": {"type": "number"},
                "credentials": {
                    "type": ["object", "null"],
                    "description": "the file's signed C2PA manifest, summarised (null: none)",
                },
            },
            ["file", "marked", "score"],
        ),
        "Job": {**JOB_SCHEMA, "properties": {**JOB_SCHEMA["properties"], "result": _result_schema()}},
        "Queued": obj(
            {"job_id": {"type": "string"}, "model_name": {"type": "string"}, "job": ref("Job")},
            ["job_id", "job"],
        ),
        **{_result_name(kind): kind.result for kind in KINDS.values()},
        "TrainingSaves": obj(
            {
                "epochs": {
                    "type": "array",
                    "items": {"type": "object"},
                    "description": "mean losses per epoch",
                },
                "saves": {
                    "type": "array",
                    "items": obj(
                        {
                            "epoch": {"type": "integer"},
                            "metrics": {"type": "object"},
                            "preview": {"type": "boolean"},
                            "preview_url": {"type": ["string", "null"]},
                            "kept": {"type": "boolean", "description": "its model file is kept (exportable)"},
                        }
                    ),
                },
                "previews": {"type": ["object", "null"], "description": "{enabled, reason, seconds}"},
                "choice": {"type": ["object", "null"], "description": "{epoch, code, message, params}"},
                "plateau": {"type": "boolean", "description": "similarity stopped improving"},
                "exported_epoch": {"type": ["integer", "null"]},
                "source_url": {"type": ["string", "null"]},
                "prefer": {"type": "string", "enum": ["best", "last"]},
            },
            description="Metrics are numbers or null; each null has its reason in metrics.unavailable.",
        ),
    }
    paths.update(account_paths())
    paths.update(_export_paths())
    schemas.update(account_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Persona API",
            "version": __version__,
            "description": "AI song covers in your own voice. Progress streams over Socket.IO (default namespace): "
            "emit 'subscribe' {job_id} (or {job_id: '*'} for every job; 'unsubscribe' likewise) and get the "
            f"current state at once, then {_events()}. Job kinds: {_kinds()}. "
            "When the server has a token, send 'Authorization: Bearer <token>' or '?token=<token>'. "
            "With accounts, sign in (POST /api/session: a cookie, then X-CSRF-Token on state-changing "
            "requests) or send a personal access token as 'Authorization: Bearer prs_...' ('?token=' on "
            "GET only); Socket.IO takes the cookie or auth: {token}.",
        },
        "servers": [{"url": "/"}],
        "security": [{}, {"bearer": []}, {"query_token": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {"Error": json_answer(ref("Error"), "Error")},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "query_token": {"type": "apiKey", "in": "query", "name": "token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "persona_session"},
            },
        },
    }
