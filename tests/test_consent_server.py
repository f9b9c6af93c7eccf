"""The consent gate through the HTTP API: sentences, a training refused or accepted by its consent,
an import's confirmation, and the record kept with the model (worker side)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from persona.errors import PersonaError
from persona.jobs import handlers
from persona.library import ModelLibrary
from persona.testing.home import write_fixture_model, write_fixture_song
from persona.testing.uploads import upload

SPOKEN = "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage."


def _webm(wav: Path, out: Path) -> Path:
    """What a browser's MediaRecorder sends: Opus in a WebM written as a stream (no duration)."""
    with open(out, "wb") as f:
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-i", str(wav), "-c:a", "libopus", "-f", "webm", "-"],
            stdout=f,
            check=True,
        )
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("consent")
    said = d / "said.wav"
    subprocess.run(
        ["text2wave", "-eval", "(voice_kal_diphone)", "-o", str(said)], input=SPOKEN.encode(), check=True
    )
    silent = d / "silent.wav"
    sf.write(silent, np.zeros(16000 * 5, np.float32), 16000)
    return {
        "said": said,
        "live": _webm(said, d / "live.webm"),
        "live2": _webm(said, d / "live2.webm"),
        "silent": _webm(silent, d / "silent.webm"),
        "song": write_fixture_song(d / "song.wav", seconds=1.0),
        "pth": write_fixture_model(d / "voice.pth", version="v2"),
    }


@pytest.fixture
def required(settings, make_client):
    return make_client(consent="on", jobs_need_assets=False)


def _train(client, clips, name="내목소리", consent=None, challenge=None):
    data = {"name": name, "epochs": "2", "files": [upload(clips["song"])]}
    if consent is not None:
        data["consent"] = consent
    if challenge is not None:
        data["consent_challenge"] = challenge
    return client.post("/api/trainings", data=data, content_type="multipart/form-data")


def _challenge(client, name="내목소리") -> dict:
    r = client.post("/api/consent/challenges", json={"model_name": name})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_single_person_default_asks_no_consent(client, clips):
    assert client.get("/api/health").get_json()["consent"] == {"required": False}
    assert _challenge(client)["required"] is False


def test_a_training_without_consent_is_refused_and_nothing_is_kept(required, clips, settings):
    assert required.get("/api/health").get_json()["consent"] == {"required": True}
    r = _train(required, clips)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "consent_required"
    assert not [p for p in settings.jobs_dir.iterdir() if p.is_dir()]  # no staging, no job folder


@pytest.mark.parametrize(
    "clip, name, code",
    [
        ("said", "동의.wav", "consent_not_live"),  # a file, not a browser recording
        ("silent", "blob.webm", "consent_silent"),
    ],
)
def test_a_bad_consent_clip_is_refused_with_its_reason(required, clips, clip, name, code):
    c = _challenge(required)
    r = _train(required, clips, consent=upload(clips[clip], name), challenge=c["id"])
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code


def test_a_live_consent_queues_the_training_once(required, clips):
    c = _challenge(required)
    assert "내목소리" in c["sentence"]
    r = _train(required, clips, consent=upload(clips["live"], "blob.webm"), challenge=c["id"])
    assert r.status_code == 202, r.get_json()
    job = required.get(f"/api/jobs/{r.get_json()['job_id']}").get_json()
    assert "_consent" not in job["params"]  # the clip's internals stay with the job
    # the same challenge again (another name so the name check passes): unknown, used
    r = _train(required, clips, name="둘째", consent=upload(clips["live2"], "blob.webm"), challenge=c["id"])
    assert r.get_json()["error"]["code"] == "consent_challenge_invalid"
    # the same recording with a fresh sentence: a replay
    c2 = _challenge(required, "셋째")
    r = _train(required, clips, name="셋째", consent=upload(clips["live"], "blob.webm"), challenge=c2["id"])
    assert r.get_json()["error"]["code"] == "consent_replayed"


def test_a_challenge_for_another_name_does_not_fit(required, clips):
    c = _challenge(required, "다른이름")
    r = _train(required, clips, consent=upload(clips["live"], "blob.webm"), challenge=c["id"])
    assert r.get_json()["error"]["code"] == "consent_challenge_invalid"


def test_an_import_needs_the_rights_confirmed_and_is_labelled(required, clips, tmp_path):
    import zipfile

    z = tmp_path / "v.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(clips["pth"], "voice.pth")
    r = required.post("/api/models/upload", data={"file": upload(z)}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "rights_confirmation_required"
    r = required.post(
        "/api/models/upload",
        data={"file": upload(z), "rights_confirmed": "true"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["consent"]["status"] == "imported"


def test_the_worker_refuses_another_voice_and_keeps_the_record(settings, clips, tmp_path):
    other = tmp_path / "other.wav"
    subprocess.run(
        ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(other)],
        input=SPOKEN.encode(),
        check=True,
    )
    with pytest.raises(PersonaError) as e:
        handlers._verify_consent_voice(clips["live"], [other])
    assert e.value.code == "consent_voice_mismatch"
    assert handlers._verify_consent_voice(clips["live"], [clips["said"]]) >= 0.8
    ModelLibrary(settings).add("내목소리", clips["pth"], source="train")
    workdir = tmp_path / "job"
    (workdir / "inputs").mkdir(parents=True)
    (workdir / "inputs" / "consent.webm").write_bytes(clips["live"].read_bytes())
    consent = {"file": "consent.webm", "sentence": "문장", "sha256": "ab", "owner": "", "similarity": 0.9}
    handlers.attach_consent(settings, {"name": "내목소리", "_consent": consent}, workdir)
    shown = ModelLibrary(settings).get("내목소리").to_dict()["consent"]
    assert shown["status"] == "recorded" and shown["sentence"] == "문장"
    assert (ModelLibrary(settings).get("내목소리").pth_path.parent / "consent" / "clip.webm").is_file()


def test_with_accounts_consent_is_asked_and_a_sentence_is_its_persons(settings, clips, make_app):
    from accounts_fixtures import GOOD, OTHER, add_people, cheap_hashes, sign_in

    cheap_hashes()
    add_people(settings)
    app = make_app(jobs_need_assets=False)
    admin, mina = app.test_client(), app.test_client()
    h_admin = {"X-CSRF-Token": sign_in(admin, "관리자", GOOD)}
    h_mina = {"X-CSRF-Token": sign_in(mina, "Mina", OTHER)}
    assert admin.get("/api/health").get_json()["consent"] == {"required": True}
    r = admin.post("/api/consent/challenges", json={"model_name": "내목소리"}, headers=h_admin)
    assert r.status_code == 201
    c = r.get_json()
    data = {"name": "내목소리", "epochs": "2", "files": [upload(clips["song"])]}
    r = mina.post(  # Mina may have a model of the same name, but not the admin's sentence
        "/api/trainings",
        data={**data, "consent": upload(clips["live"], "blob.webm"), "consent_challenge": c["id"]},
        headers=h_mina,
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "consent_challenge_invalid"
    r = admin.post(
        "/api/trainings",
        data={
            **data,
            "files": [upload(clips["song"])],
            "consent": upload(clips["live2"], "blob.webm"),
            "consent_challenge": c["id"],
        },  # fmt: skip
        headers=h_admin,
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_json()
