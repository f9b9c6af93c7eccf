"""Every job kind is described once (``persona.jobs.kinds``), and everything that shows a kind keeps
in step with it: the OpenAPI document (its route, result and enums), the Socket.IO events and the
REST job (one shape, ``persona.jobs.public``), the stage order the page reads from
``GET /api/health``, and the page's labels for every stage."""

from __future__ import annotations

import pytest
from test_messages import catalogue

from persona.jobs import kinds
from persona.jobs.handlers import default_handlers
from persona.jobs.needs import NEEDY_KINDS
from persona.jobs.public import EVENTS, JOB_SCHEMA, STATE_FIELDS, final_event, progress_event, public_job
from persona.server.openapi import build_openapi

DOC = build_openapi()
KIND_NAMES = list(kinds.NAMES)


def _row(kind: str, status: str = "running") -> dict:
    return {
        "id": "abc",
        "kind": kind,
        "status": status,
        "stage": "x",
        "progress": 0.5,
        "message": "",
        "eta_s": None,
        "metrics": {"message_code": "c", "message_params": {"a": 1}, "loss": 1.0},
        "cancel_requested": 0,
        "result": {"ok": True},
        "error": None,
        "params": {"name": "n", "_files": ["01.wav"]},
        "model": None,
        "attempts": 1,
        "created_at": "t",
        "updated_at": "t",
        "started_at": None,
        "finished_at": None,
        "updated_ts": 1.0,
    }


def test_the_registry_names_real_code():
    assert KIND_NAMES == ["train", "cover", "assets"]
    handlers = default_handlers()
    assert sorted(handlers) == sorted(KIND_NAMES)
    for kind in kinds.KINDS.values():
        assert callable(handlers[kind.name])
        assert kind.stage_names(), kind.name
        assert kind.device_use in (None, kinds.EXCLUSIVE, kinds.SHARED)
        for ref in (kind.needs, kind.stopped, kind.undo):
            assert ref is None or callable(kinds.load(ref))
    assert set(NEEDY_KINDS) == {"train", "cover"}


def test_an_unknown_kind_is_a_clear_400():
    with pytest.raises(Exception) as err:
        kinds.get("nope")
    assert err.value.code == "param_invalid" and err.value.params["field"] == "kind"


@pytest.mark.parametrize("name", KIND_NAMES)
def test_every_kind_is_in_the_openapi_document(name):
    kind = kinds.KINDS[name]
    post = DOC["paths"][kind.route]["post"]
    assert post["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Queued"
    }
    schemas = DOC["components"]["schemas"]
    assert name in schemas["Job"]["properties"]["kind"]["enum"]
    result_ref = {"$ref": f"#/components/schemas/{name.capitalize()}Result"}
    assert result_ref in schemas["Job"]["properties"]["result"]["oneOf"]
    assert schemas[f"{name.capitalize()}Result"] == kind.result
    jobs_kind = next(p for p in DOC["paths"]["/api/jobs"]["get"]["parameters"] if p["name"] == "kind")
    assert name in jobs_kind["schema"]["enum"]
    assert name in schemas["Health"]["properties"]["options"]["properties"]["stages"]["properties"]


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("name", KIND_NAMES)
def test_the_page_has_a_label_for_every_stage(name, lang):
    keys = catalogue()[lang]
    missing = [s for s in kinds.KINDS[name].stage_names() if f"stage.{s}" not in keys]
    assert not missing, f"web/src/lib/messages.js ({lang}) lacks stage labels: {missing}"


def test_rest_and_events_share_one_job_shape():
    row = _row("cover")
    job = public_job(row)
    assert set(job) | {"queue"} == set(JOB_SCHEMA["properties"])
    assert job["params"] == {"name": "n"}  # server-side names stay home
    assert job["metrics"] == {"loss": 1.0} and job["message_code"] == "c"
    event = progress_event(row)
    assert list(event) == [f for f in EVENTS["job_progress"] if f != "queue"]
    assert {k: event[k] for k in STATE_FIELDS} == {k: job[k] for k in STATE_FIELDS}
    assert event["job_id"] == job["id"] == "abc"
    for status, name in (("succeeded", "job_done"), ("failed", "job_failed"), ("cancelled", "job_cancelled")):
        event_name, payload = final_event(_row("train", status))
        assert event_name == name and tuple(payload) == EVENTS[name]
    assert final_event(row) is None
    for name, fields in EVENTS.items():  # the document tells clients what the events carry
        assert f"{name} {{{', '.join(fields)}}}" in DOC["info"]["description"]


def test_the_health_answer_gives_the_page_each_kinds_stage_order(client):
    stages = client.get("/api/health").get_json()["options"]["stages"]
    assert stages == kinds.stage_orders()
    assert stages["cover"] == ["decode", "separate", "convert", "mix", "encode"]
