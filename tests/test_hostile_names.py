"""Names: a queued or running training reserves its model name against uploads (checked in both
routes, atomically under the library's lock); names of only combining marks are refused; zip
member names with CR/LF or bidirectional overrides never reach the API's text fields."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest

from persona.errors import PersonaError
from persona.jobs import JobQueue
from persona.library import ModelLibrary
from persona.names import validate_model_name
from persona.testing.home import write_fixture_model, write_fixture_song
from persona.testing.uploads import upload


@pytest.fixture
def settings(settings):
    return settings.replace(jobs_need_assets=False)  # no worker runs these jobs


def _zip(tmp_path, member: str = "voice.pth") -> io.BytesIO:
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(write_fixture_model(tmp_path / "v.pth"), member)
    z.seek(0)
    return z


def _train(client, tmp_path, name: str):
    song = write_fixture_song(tmp_path / "rec.wav", seconds=2.0)
    return client.post(
        "/api/trainings",
        data={"name": name, "epochs": "2", "files": [upload(song, "rec.wav")]},
        content_type="multipart/form-data",
    )


def test_an_upload_cannot_take_the_name_of_a_queued_training(client, settings, tmp_path):
    r = _train(client, tmp_path, "예약된 이름")
    assert r.status_code == 202, r.get_json()
    up = client.post(
        "/api/models/upload",
        data={"file": (_zip(tmp_path), "m.zip"), "name": "예약된 이름"},
        content_type="multipart/form-data",
    )
    assert up.status_code == 409 and up.get_json()["error"]["code"] == "model_exists"
    assert up.get_json()["error"]["params"] == {"reserved": True}
    assert not ModelLibrary(settings).exists("예약된 이름")
    # case-insensitively, as model folders compare
    again = _train(client, tmp_path, "예약된 이름".upper())
    assert again.status_code == 409
    # an upload named after its file (no name field) is refused the same way
    up = client.post(
        "/api/models/upload",
        data={"file": (_zip(tmp_path, "예약된 이름.pth"), "x.zip")},
        content_type="multipart/form-data",
    )
    assert up.status_code == 409


def test_a_training_cannot_take_the_name_of_a_model(client, settings, tmp_path):
    ModelLibrary(settings).add("있는 모델", write_fixture_model(tmp_path / "m.pth"), source="upload")
    r = _train(client, tmp_path, "있는 모델")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "model_exists"


def test_reservation_and_upload_race_has_one_winner(settings, tmp_path):
    """The two routes' final steps, run at once many times: never both."""
    queue = JobQueue(settings)
    lib = ModelLibrary(settings, in_use=queue.store.model_in_use)
    pth = write_fixture_model(tmp_path / "m.pth")
    for i in range(6):
        name = f"race {i}"
        wins: list[str] = []
        barrier = threading.Barrier(2)

        def train(name=name, barrier=barrier, wins=wins):
            barrier.wait()
            try:
                with lib.reserving(name):
                    queue.store.create("train", {"name": name}, model=name)
                wins.append("train")
            except PersonaError as exc:
                assert exc.code == "model_exists"

        def upload(name=name, barrier=barrier, wins=wins):
            barrier.wait()
            try:
                lib.add(name, pth, source="upload")
                wins.append("upload")
            except PersonaError as exc:
                assert exc.code == "model_exists"

        threads = [threading.Thread(target=train), threading.Thread(target=upload)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(wins) == 1, wins


@pytest.mark.parametrize("name", ["\u0301", "\u0301\u0302\u0303", " \u0301 ", "\u0301-\u0302", "\u20dd"])
def test_a_name_of_only_combining_marks_is_refused(name):
    with pytest.raises(PersonaError) as err:
        validate_model_name(name)
    assert err.value.code == "name_invalid"


@pytest.mark.parametrize(
    "name", ["\u3164", "\u115f\u1160", "\uffa0\uffa0\uffa0", "목소리\u3164", " \u3164 - \u3164 "]
)
def test_a_name_with_hangul_fillers_is_refused(name):
    """Fillers are letters to Unicode but show blank: refused wherever they are in a name."""
    with pytest.raises(PersonaError) as err:
        validate_model_name(name)
    assert err.value.code == "name_invalid" and err.value.params == {"reason": "invisible"}


def test_a_filler_name_is_refused_by_the_api_and_nothing_stored(client, settings):
    r = client.post("/api/trainings", data={"name": "\u3164\u3164", "epochs": "1"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "name_invalid"
    assert ModelLibrary(settings).list() == []


def test_names_with_marks_on_letters_still_pass():
    assert validate_model_name("e\u0301") == "\u00e9"  # NFC
    assert validate_model_name("한국어 목소리") == "한국어 목소리"
    assert validate_model_name("नमस्ते") == "नमस्ते"  # Devanagari: letters with combining vowel signs


@pytest.mark.parametrize("member", ["a\r\nX-Injected: 1.pth", "voice\u202egnp.pth", "tab\there.pth"])
def test_zip_member_names_never_reach_api_text_raw(client, tmp_path, member):
    up = client.post(
        "/api/models/upload",
        data={"file": (_zip(tmp_path, member), "m.zip"), "name": "메모"},
        content_type="multipart/form-data",
    )
    assert up.status_code == 201, up.get_json()
    texts = [v for v in up.get_json().values() if isinstance(v, str)]
    texts += [v for v in client.get("/api/models/메모").get_json().values() if isinstance(v, str)]
    for bad in ("\r", "\n", "\u202e", "\t"):
        assert not any(bad in t for t in texts), (bad, texts)
    assert "?" in up.get_json()["note"]
