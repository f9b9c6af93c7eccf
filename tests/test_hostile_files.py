"""Memory bounded by the file, not by its claims: crafted ``.pth`` and ``.index`` files are
refused before anything is built or allocated from their claims. Each check runs in a fresh
process whose peak RSS growth is asserted under a bound (a memory assertion; the figures and the
time to refuse are recorded by ``benchmarks/bench_hostile.py`` in ``benchmarks/README.md``)."""

from __future__ import annotations

import io
import zipfile

import pytest

from persona.errors import PersonaError
from persona.library import ModelLibrary
from persona.library.validate import inspect_index, inspect_model
from persona.rvc.index_file import check_index_file
from persona.server import create_app
from persona.testing.home import write_fixture_index, write_fixture_model
from persona.testing.hostile import HOSTILE, refusal_in_child

RSS_BOUND_MB = 300  # the unbounded behaviour this replaces reached 5.7-8.4 GB


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


def test_an_upload_with_a_hostile_index_is_refused_and_the_library_unchanged(settings, tmp_path):
    make, _ = HOSTILE["index_length_x1e6"]
    bad = make(tmp_path / "added_IVF1_Flat_nprobe_1_m_v2.index")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(write_fixture_model(tmp_path / "m.pth"), "m.pth")
        zf.write(bad, bad.name)
    client = create_app(settings, web_dist=None, jobs_need_assets=False).test_client()
    r = client.post(
        "/api/models/upload",
        data={"file": (io.BytesIO(z.getvalue()), "m.zip"), "name": "적대"},
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
