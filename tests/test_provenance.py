"""Provenance: the watermark, the signed content credentials and the tags on every output."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import c2pa
import mutagen
import numpy as np
import pytest
import soundfile as sf

from persona import provenance
from persona.errors import PersonaError
from persona.provenance import credentials, identity, watermark
from persona.testing.audio import song_like


@pytest.fixture(scope="module")
def song() -> tuple[np.ndarray, int]:
    mix, _, _ = song_like(20.0, 44100, seed=5)
    noise = np.random.default_rng(1).standard_normal(mix.shape).astype(np.float32) * 0.02
    return mix + noise, 44100  # a little noise floor, as recordings have


def test_mark_is_found_and_unmarked_audio_is_not(song):
    audio, sr = song
    marked = provenance.mark_audio(audio, sr)
    assert marked.shape == audio.shape and marked.dtype == np.float32
    diff = marked - audio
    snr = 10 * np.log10((audio**2).sum() / (diff**2).sum())
    assert snr > 20  # an added change, not a different signal
    found, clean = watermark.detect(marked, sr), watermark.detect(audio, sr)
    assert found.marked and found.score >= watermark.THRESHOLD
    assert not clean.marked and clean.score < watermark.THRESHOLD - 1


def test_mark_survives_a_speed_change_and_a_mono_downmix(song):
    from persona.audio.resample import resample

    audio, sr = song
    marked = provenance.mark_audio(audio, sr)
    faster = resample(marked.mean(axis=0), int(sr * 1.04), sr)  # played 4 % fast
    found = watermark.detect(faster, sr)
    assert found.marked and abs(found.speed - 1.04) <= 0.011


def test_mark_survives_a_tempo_change_that_keeps_the_pitch(song):
    import librosa

    audio, sr = song
    marked = provenance.mark_audio(audio, sr).mean(axis=0)
    slower = librosa.effects.time_stretch(marked, rate=0.96)  # 4 % slower, same pitch
    found = watermark.detect(slower, sr)
    assert found.marked and found.speed == 1.0 and abs(found.tempo - 0.96) <= 0.011


def test_streaming_marker_equals_whole_signal_marking(song):
    audio, sr = song
    whole = watermark.embed(audio, sr)
    marker = watermark.Marker(sr, 2, chunk_s=3.0)
    parts = [marker.process(audio[:, i : i + 7777]) for i in range(0, audio.shape[1], 7777)]
    parts.append(marker.flush())
    streamed = np.concatenate(parts, axis=1)
    assert streamed.shape == audio.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-6)


def test_marking_off_is_explicit_and_logged(song, settings, caplog):
    audio, sr = song
    off = settings.replace(marking="off")
    with caplog.at_level(logging.WARNING, logger="persona.provenance"):
        out = provenance.mark_audio(audio, sr, off)
    np.testing.assert_array_equal(out, audio)
    assert "OFF" in caplog.text
    assert provenance.new_marker(off, sr, 2) is None
    with pytest.raises(PersonaError) as err:
        provenance.mark_audio(audio, sr, settings.replace(marking="maybe"))
    assert err.value.code == "setting_invalid"


def test_detect_file_answers_for_files_and_refuses_non_audio(song, tmp_path):
    audio, sr = song
    sf.write(tmp_path / "m.wav", provenance.mark_audio(audio, sr).T, sr, subtype="PCM_16")
    sf.write(tmp_path / "u.wav", audio.T, sr, subtype="PCM_16")
    assert provenance.detect_file(tmp_path / "m.wav")["marked"] is True
    answer = provenance.detect_file(tmp_path / "u.wav")
    assert answer["file"] == "u.wav" and answer["marked"] is False and isinstance(answer["score"], float)
    (tmp_path / "notes.txt").write_text("not audio")
    with pytest.raises(PersonaError) as err:
        provenance.detect_file(tmp_path / "notes.txt")
    assert err.value.code == "audio_unreadable"


def _manifest(path: Path) -> dict:
    with c2pa.Reader(str(path)) as reader:  # the library's own reader
        store = json.loads(reader.json())
    return store["manifests"][store["active_manifest"]] | {"validation_state": store.get("validation_state")}


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".flac"])
def test_credentials_are_signed_and_tagged(settings, tmp_path, suffix):
    path = tmp_path / f"cover{suffix}"
    audio = np.random.default_rng(0).standard_normal((2, 44100)).astype(np.float32) * 0.1
    sf.write(path, audio.T, 44100)
    facts = credentials.CoverFacts(model_sha256="ab" * 32, consent_record=True, title="Song (Voice)")
    result = provenance.credential_file(path, facts, settings)
    assert result.signed and result.tagged
    manifest = _manifest(path)
    assert manifest["validation_state"] in ("Valid", "Trusted")
    assert manifest["claim_generator_info"][0]["name"] == "Persona"
    labels = {a["label"]: a["data"] for a in manifest["assertions"]}
    created = labels["c2pa.actions.v2"]["actions"][0]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    cover = labels["persona.cover"]
    assert cover["model_sha256"] == "ab" * 32 and cover["consent_record"] is True and cover["marked"] is True
    assert cover["created_at"]
    tags = mutagen.File(path).tags
    text = " ".join(str(v) for v in (tags.values() if hasattr(tags, "values") else tags))
    assert credentials.DISCLOSURE in text
    y, ysr = sf.read(path)  # still plays
    assert ysr == 44100 and y.shape == (44100, 2)


def test_a_changed_byte_breaks_the_signature(settings, tmp_path):
    path = tmp_path / "cover.wav"
    sf.write(path, np.zeros((44100, 2), np.float32) + 0.01, 44100, subtype="PCM_16")
    provenance.credential_file(path, credentials.CoverFacts(), settings)
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF  # inside the audio data, which the manifest's hash binds
    path.write_bytes(bytes(data))
    assert _manifest(path)["validation_state"] == "Invalid"


def test_formats_c2pa_cannot_carry_say_so(settings, tmp_path):
    path = tmp_path / "cover.ogg"
    sf.write(path, np.zeros((44100, 2), np.float32) + 0.01, 44100)
    result = provenance.credential_file(path, credentials.CoverFacts(), settings)
    assert result.tagged and not result.signed
    assert provenance.read_credentials(path) is None


def test_signing_key_is_created_once_and_private(settings):
    first = identity.load_identity(settings)
    key = settings.home / "provenance" / identity.KEY_FILE
    assert first.created_here and oct(os.stat(key).st_mode & 0o777) == "0o600"
    assert identity.load_identity(settings).key_pem == first.key_pem


@pytest.mark.parametrize("damage", ["corrupt_key", "missing_cert", "other_key"])
def test_a_broken_signing_key_is_refused_not_replaced(settings, tmp_path, damage):
    identity.load_identity(settings)
    folder = settings.home / "provenance"
    if damage == "corrupt_key":
        (folder / identity.KEY_FILE).write_bytes(
            b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n"
        )
    elif damage == "missing_cert":
        (folder / identity.CHAIN_FILE).unlink()
    else:
        other = settings.replace(home=tmp_path / "other")
        identity.load_identity(other)
        (folder / identity.KEY_FILE).write_bytes((other.home / "provenance" / identity.KEY_FILE).read_bytes())
    before = (folder / identity.KEY_FILE).read_bytes()
    with pytest.raises(PersonaError) as err:
        provenance.check_ready(settings)
    assert err.value.code == "signing_key_invalid"
    assert (folder / identity.KEY_FILE).read_bytes() == before  # never replaced silently
    path = tmp_path / "cover.wav"
    sf.write(path, np.zeros((4410, 2), np.float32), 44100)
    with pytest.raises(PersonaError):
        provenance.credential_file(path, credentials.CoverFacts(), settings)


def test_operator_key_needs_both_halves(settings, tmp_path):
    half = settings.replace(signing_cert=str(tmp_path / "chain.pem"))
    with pytest.raises(PersonaError) as err:
        identity.load_identity(half)
    assert err.value.code == "signing_key_invalid"


def test_a_cover_is_marked_signed_and_tagged_when_written(settings, tmp_path, monkeypatch):
    import persona.cover.pipeline as pipeline
    from persona.cover import CoverRequest
    from persona.separation.pipeline import unload_models
    from persona.testing.separation import synthetic_song, write_model

    def convert(settings, model, audio, sr, options, progress, cancel, **kw):
        return audio * 0.8, sr

    unload_models()
    write_model(settings.assets, "bs_roformer")
    monkeypatch.setattr(pipeline, "_index_in_use", lambda s, r: False)
    pth = tmp_path / "singer.pth"
    pth.write_bytes(b"voice")
    from persona.consent import record as consent_record

    consent_record.write(tmp_path, {"kind": "recorded", "sentence": "s", "clip": "clip.wav", "sha256": "0"})
    song = tmp_path / "song.wav"
    sf.write(song, synthetic_song(3.0, 44100)["mix"].T, 44100, subtype="PCM_16")
    outs = {}
    for marking in ("on", "off"):
        req = CoverRequest(song=song, model=str(pth), output=tmp_path / f"{marking}.wav")
        result = pipeline.make_cover(settings.replace(marking=marking), req, convert_fn=convert)
        assert result.provenance == {"watermark": marking == "on", "c2pa": True, "tags": True}
        outs[marking] = result.path
    unload_models()
    on, _ = sf.read(outs["on"], dtype="float32")
    off, _ = sf.read(outs["off"], dtype="float32")
    assert on.shape == off.shape
    diff = on - off
    assert 20 < 10 * np.log10((off**2).sum() / (diff**2).sum()) < 60  # the mark, and only the mark
    assert pipeline.make_cover  # the result says what the file carries
    for marking, path in outs.items():
        cover = {a["label"]: a["data"] for a in _manifest(path)["assertions"]}["persona.cover"]
        assert cover["kind"] == "cover" and cover["marked"] is (marking == "on")
        assert cover["consent_record"] is True and cover["consent"] == "recorded"
        import hashlib

        assert cover["model_sha256"] == hashlib.sha256(b"voice").hexdigest()
        assert credentials.DISCLOSURE in str(mutagen.File(path).tags)
    assert not list(tmp_path.glob(".on.wav*"))  # no temporary file left beside the cover


def test_api_detect_answers_for_audio_and_refuses_other_files(song, settings, tmp_path, make_client):
    import io

    audio, sr = song
    client = make_client(token="secret")  # open even with a token
    marked = tmp_path / "cover.wav"
    sf.write(marked, provenance.mark_audio(audio, sr).T, sr, subtype="PCM_16")
    provenance.credential_file(marked, credentials.CoverFacts(model_sha256="cd" * 32), settings)
    r = client.post("/api/detect", data={"file": (marked.open("rb"), "내 커버.wav")})
    assert r.status_code == 200, r.json
    assert (
        r.json["file"] == "내 커버.wav"
        and r.json["marked"] is True
        and r.json["score"] >= r.json["threshold"]
    )
    assert r.json["credentials"]["digital_source_type"].endswith("trainedAlgorithmicMedia")
    assert r.json["credentials"]["model_sha256"] == "cd" * 32
    buf = io.BytesIO()
    sf.write(buf, audio.T, sr, format="WAV", subtype="PCM_16")
    buf.seek(0)
    r = client.post("/api/detect", data={"file": (buf, "song.wav")})
    assert r.status_code == 200 and r.json["marked"] is False and r.json["credentials"] is None
    r = client.post("/api/detect", data={"file": (io.BytesIO(b"%PDF-1.4 not audio"), "song.wav")})
    assert r.status_code == 400 and r.json["error"]["code"] == "audio_unreadable"
    r = client.post("/api/detect", data={"file": (io.BytesIO(b"text"), "notes.txt")})
    assert r.status_code == 400 and r.json["error"]["code"]
    r = client.post("/api/detect", data={})
    assert r.status_code == 400 and r.json["error"]["code"] == "files_missing"
    assert not list((settings.jobs_dir).glob(".upload-*"))  # nothing kept


def test_cli_detect_prints_json_and_refuses_non_audio(song, tmp_path, capsys, monkeypatch):
    from persona.cli import main

    audio, sr = song
    monkeypatch.setenv("PERSONA_HOME", str(tmp_path / "home"))
    sf.write(tmp_path / "a.wav", provenance.mark_audio(audio, sr).T, sr, subtype="PCM_16")
    sf.write(tmp_path / "b.flac", audio.T, sr)
    assert main(["detect", str(tmp_path / "a.wav"), str(tmp_path / "b.flac"), "--json"]) == 0
    answers = json.loads(capsys.readouterr().out)
    assert [(Path(a["file"]).name, a["marked"]) for a in answers] == [("a.wav", True), ("b.flac", False)]
    assert all(set(a) == {"file", "marked", "score"} for a in answers)
    (tmp_path / "x.txt").write_text("hello")
    assert main(["detect", str(tmp_path / "x.txt")]) == 2
    assert "audio_unreadable" in capsys.readouterr().err


def test_serve_start_refuses_a_broken_signing_key(settings):
    from persona.jobs.startup import check_provenance

    check_provenance(settings)  # first start: creates the key
    (settings.home / "provenance" / identity.CHAIN_FILE).write_text("not a certificate")
    with pytest.raises(PersonaError) as err:
        check_provenance(settings)
    assert err.value.code == "signing_key_invalid"


def test_api_detect_turns_away_work_beyond_its_bound(settings, monkeypatch, make_client):
    import io

    from persona.server import api_detect

    client = make_client()
    monkeypatch.setattr(api_detect, "WAIT_S", 0.01)
    buf = io.BytesIO()
    sf.write(buf, np.zeros((4410, 2), np.float32) + 0.01, 44100, format="WAV", subtype="PCM_16")
    held = [api_detect._turns.acquire() for _ in range(api_detect.CONCURRENT)]
    try:
        buf.seek(0)
        r = client.post("/api/detect", data={"file": (buf, "a.wav")})
        assert r.status_code == 503 and r.json["error"]["code"] == "detect_busy"
    finally:
        for _ in held:
            api_detect._turns.release()
    assert not list(settings.jobs_dir.glob(".upload-*"))


def test_an_operator_key_signs_instead_of_the_instance_key(settings, tmp_path):
    own = tmp_path / "operator"
    identity._create(own / "chain.pem", own / "key.pem")  # stands in for the operator's own CA
    operator = settings.replace(signing_cert=str(own / "chain.pem"), signing_key=str(own / "key.pem"))
    ident = identity.load_identity(operator)
    assert not ident.created_here and ident.chain_pem == (own / "chain.pem").read_bytes()
    assert not (settings.home / "provenance").exists()  # no instance key made beside it
    path = tmp_path / "cover.wav"
    sf.write(path, np.zeros((4410, 2), np.float32) + 0.01, 44100, subtype="PCM_16")
    provenance.credential_file(path, credentials.CoverFacts(), operator)
    assert _manifest(path)["validation_state"] == "Valid"
