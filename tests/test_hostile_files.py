"""Memory bounded by the file, not by its claims: crafted ``.pth`` and ``.index`` files are
refused before anything is built or allocated from their claims, and never in the web process.
Each check runs in the limited child of ``persona.library.isolated`` (the worker's index load in
a fresh process), whose peak RSS growth is asserted under a bound (a memory assertion; the
figures and the time to refuse are recorded by ``benchmarks/bench_hostile.py`` in
``benchmarks/README.md``). The child's CPU-time and memory limits are checked structurally: a
check that never ends or allocates without bound is stopped and reported as the file's fault."""

from __future__ import annotations

import io
import os
import threading
import zipfile

import pytest

from persona.errors import PersonaError
from persona.library import ModelLibrary
from persona.library.isolated import run_isolated
from persona.library.validate import inspect_index, inspect_model
from persona.rvc.index_file import check_index_file
from persona.testing.home import write_fixture_index, write_fixture_model
from persona.testing.hostile import HOSTILE, burn_cpu, grab_memory, laughing_entry, refusal_in_child
from persona.testing.uploads import upload

RSS_BOUND_MB = 300  # the unbounded behaviour this replaces reached 5.7-8.4 GB


@pytest.fixture
def settings(settings):
    return settings.replace(jobs_need_assets=False)  # no worker runs these jobs


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_refused_within_a_memory_bound(tmp_path, name):
    make, kind = HOSTILE[name]
    path = make(tmp_path / (name + (".pth" if kind == "model" else ".index")))
    got = refusal_in_child(kind, path)
    assert got["code"] == ("model_invalid" if kind == "model" else "index_invalid"), got
    assert got["rss_growth_mb"] < RSS_BOUND_MB, got


def test_the_real_files_still_pass(tmp_path):
    model = write_fixture_model(tmp_path / "m.pth")
    assert inspect_model(model)["version"] == "v2"
    index = write_fixture_index(tmp_path / "idx", version="v2", exp_name="m")
    assert check_index_file(index)["dim"] == 768
    assert inspect_index(index, "v2")["ntotal"] > 0


def test_an_index_with_bytes_after_it_or_cut_short_is_refused(tmp_path):
    index = write_fixture_index(tmp_path / "idx", version="v2", exp_name="m")
    data = index.read_bytes()
    for name, body in (("long.index", data + b"\0" * 16), ("short.index", data[:-100])):
        (tmp_path / name).write_bytes(body)
        with pytest.raises(PersonaError) as err:
            inspect_index(tmp_path / name)
        assert err.value.code == "index_invalid"


def test_an_upload_with_a_hostile_index_is_refused_and_the_library_unchanged(settings, tmp_path, client):
    make, _ = HOSTILE["index_length_x1e6"]
    bad = make(tmp_path / "added_IVF1_Flat_nprobe_1_m_v2.index")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(write_fixture_model(tmp_path / "m.pth"), "m.pth")
        zf.write(bad, bad.name)
    r = client.post(
        "/api/models/upload",
        data={"file": upload(z.getvalue(), "m.zip"), "name": "적대"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "index_invalid"
    assert not ModelLibrary(settings).exists("적대")


def test_a_content_encoder_too_small_for_v1_is_a_clear_refusal(tmp_path):
    """v1 models read HuBERT's layer 9: an encoder with fewer layers is refused by name, not an
    internal error (the fixture ``plain-v1`` cover on a tiny encoder)."""
    import torch

    from persona.rvc.content import ContentEncoder
    from persona.testing.content import write_hubert_folder

    encoder = ContentEncoder.from_path(write_hubert_folder(tmp_path / "hubert"))
    encoder.model.config.num_hidden_layers = 4
    with pytest.raises(PersonaError) as err:
        encoder.extract(torch.zeros(1, 16000), "v1")
    assert err.value.code == "embedder_invalid" and err.value.params == {"layers": 4, "needed": 9}


def test_checks_run_in_another_process():
    pid, usage = run_isolated(os.getpid, code="model_invalid", name="m.pth")
    assert pid != os.getpid() and usage.rss_growth_mb < RSS_BOUND_MB


def test_a_check_that_never_ends_is_stopped_by_its_cpu_limit():
    with pytest.raises(PersonaError) as err:
        run_isolated(burn_cpu, code="model_invalid", name="stuck.pth", cpu_s=1)
    assert err.value.code == "model_invalid"
    assert err.value.params == {"file": "stuck.pth", "limit_s": 1}


def test_a_check_that_allocates_without_bound_is_stopped_by_its_memory_limit():
    with pytest.raises(PersonaError) as err:
        run_isolated(grab_memory, 4096, code="index_invalid", name="big.index", memory_mb=256)
    assert err.value.code == "index_invalid"
    assert err.value.params == {"file": "big.index", "limit_mb": 256}


def test_the_server_answers_while_a_check_runs(client):
    """The check holds a child's CPU, never the web process's GIL: health answers meanwhile."""
    done = threading.Event()

    def check():
        with pytest.raises(PersonaError):
            run_isolated(burn_cpu, code="model_invalid", name="stuck.pth", cpu_s=3)
        done.set()

    thread = threading.Thread(target=check)
    thread.start()
    answered = 0
    while not done.is_set() and answered < 5:
        assert client.get("/api/health").status_code == 200
        answered += 1
    thread.join()
    assert answered >= 1


def _upload(client, body: bytes, filename: str, name: str = "적대"):
    return client.post(
        "/api/models/upload",
        data={"file": upload(body, filename), "name": name},
        content_type="multipart/form-data",
    )


def test_a_zip_member_that_inflates_like_a_bomb_is_refused_before_extraction(settings, tmp_path, client):
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(write_fixture_model(tmp_path / "m.pth"), "m.pth")
        zf.writestr("added_IVF1_Flat_nprobe_1_m_v2.index", bytes(4 << 20))  # zeros: ~1000x
    r = _upload(client, z.getvalue(), "m.zip")
    error = r.get_json()["error"]
    assert r.status_code == 413 or r.status_code == 400, r.get_json()
    assert error["code"] == "zip_too_large" and error["params"]["max_ratio"] == 20
    assert error["params"]["file"] == "added_IVF1_Flat_nprobe_1_m_v2.index"
    assert not ModelLibrary(settings).exists("적대")


def test_an_upload_of_a_laughing_model_names_the_persons_file(settings, tmp_path, client):
    bad = laughing_entry("info")(tmp_path / "my voice.pth")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(bad, "folder/my voice.pth")
    r = _upload(client, z.getvalue(), "m.zip")
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["code"] == "model_invalid"
    assert "my voice.pth" in error["message"] and "upload.pth" not in error["message"]
    assert not ModelLibrary(settings).exists("적대")


def test_a_process_forked_after_the_first_check_runs_its_own_checks():
    """gunicorn forks its workers from a master that may already have checked a file: a forked
    worker must not use (and fail to wait on) the master's forkserver."""
    run_isolated(os.getpid, code="model_invalid", name="m.pth")  # the forkserver runs here now
    pid = os.fork()
    if pid == 0:  # the child: a check must work here too
        code = 1
        try:
            child_pid, _ = run_isolated(os.getpid, code="model_invalid", name="m.pth")
            code = 0 if child_pid != os.getpid() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
