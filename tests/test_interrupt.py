"""A Stop inside a model call (``persona.interrupt``, issue 25 item 3): the real nets at tiny size
are stopped in the middle of a forward or backward pass, a preview conversion, HuBERT feature
extraction, a conversion and a separation; the call ends there, a half training step is never
kept and the last save stays as it was. Looking at the token changes no number."""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from torch.nn.modules import module as torch_module

from persona.errors import Cancelled, Superseded
from persona.interrupt import active
from persona.progress import CancelToken
from persona.testing.training import random_batch, write_examples
from persona.training import loop
from persona.training.config import training_config


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny nets on a busy 2-core machine: more threads only thrash
    yield
    torch.set_num_threads(before)


class StopAfter(CancelToken):
    """Says stop from look ``after + 1`` on (None: never); counts its looks."""

    def __init__(self, after: int | None = None) -> None:
        super().__init__()
        self.after, self.looks = after, 0

    @property
    def cancelled(self) -> bool:
        self.looks += 1
        return self.after is not None and self.looks > self.after

    def stop_in(self, looks: int) -> None:
        self.after = self.looks + looks


class Spy:
    """Outermost module calls of this thread that began and that returned (a test's own hooks)."""

    def __init__(self) -> None:
        self.depth, self.began, self.returned = 0, 0, 0
        self.thread = threading.get_ident()

    def __enter__(self) -> Spy:
        self.handles = [
            torch_module.register_module_forward_pre_hook(self._pre),
            torch_module.register_module_forward_hook(self._post),
        ]
        return self

    def __exit__(self, *exc) -> None:
        for h in self.handles:
            h.remove()

    def _pre(self, module, args) -> None:
        if threading.get_ident() == self.thread:
            self.began += self.depth == 0
            self.depth += 1

    def _post(self, module, args, out) -> None:
        if threading.get_ident() == self.thread:
            self.depth -= 1
            self.returned += self.depth == 0


def no_hooks_left() -> bool:
    return (
        not active() and not torch_module._global_forward_pre_hooks and not torch_module._global_forward_hooks
    )


# -- one training step -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nets():
    cfg = training_config("40k", "tiny")
    torch.manual_seed(0)
    net_g, net_d = loop.build_nets(cfg)
    net_g.train()
    net_d.train()
    return cfg, net_g, net_d


def _fresh(nets):
    cfg, g, d = nets
    g, d = copy.deepcopy(g), copy.deepcopy(d)
    og, od = loop.make_optimizers(g, d, cfg)
    return g, d, og, od, torch.amp.GradScaler("cuda", enabled=False)


def _step(nets, parts, token, seed: int = 7):
    cfg = nets[0]
    torch.manual_seed(seed)
    return loop.train_step(*parts, random_batch(cfg), cfg, torch.device("cpu"), token)


def test_looking_at_the_token_changes_no_number_and_leaves_no_hook(nets):
    plain, watched = _fresh(nets), _fresh(nets)
    token = StopAfter()
    for seed in (7, 8):
        assert _step(nets, plain, None, seed) == _step(nets, watched, token, seed)
    for p, q in zip(
        [*plain[0].parameters(), *plain[1].parameters()],
        [*watched[0].parameters(), *watched[1].parameters()],
        strict=True,
    ):
        assert torch.equal(p, q)
    assert token.looks > 100  # every layer, forward and backward, looked
    assert no_hooks_left()


def test_a_stop_inside_the_generators_forward_ends_the_step_there(nets):
    parts = _fresh(nets)
    before = [p.detach().clone() for p in [*parts[0].parameters(), *parts[1].parameters()]]
    token = StopAfter(after=5)  # a few layers into the generator: the step's first model call
    with Spy() as spy, pytest.raises(loop.StepStopped):
        _step(nets, parts, token)
    assert spy.began == 1 and spy.returned == 0  # the generator's forward never returned
    assert token.looks == 6  # and nothing looked again after the stop
    after = [*parts[0].parameters(), *parts[1].parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert not parts[2].state and not parts[3].state  # neither optimizer moved
    assert no_hooks_left()


def test_a_stop_inside_the_generators_backward_aborts_it_before_its_update(nets):
    counting = StopAfter()
    _step(nets, _fresh(nets), counting)
    parts = _fresh(nets)
    net_g = parts[0]
    before = [p.detach().clone() for p in net_g.parameters()]
    token = StopAfter(after=counting.looks - 3)  # the last looks are the generator's backward
    with pytest.raises(loop.StepStopped):
        _step(nets, parts, token)
    grads = [p.grad is not None for p in net_g.parameters() if p.requires_grad]
    assert any(grads) and not all(grads)  # backward stopped half way through the generator
    assert all(torch.equal(a, b) for a, b in zip(before, net_g.parameters(), strict=True))
    assert not parts[2].state  # the generator's AdamW never stepped
    assert all(p.requires_grad for p in parts[1].parameters())  # the discriminator is trainable again


def test_a_superseded_attempt_raises_superseded_from_inside_the_step(nets):
    class Taken(StopAfter):
        @property
        def superseded(self) -> bool:
            return self.looks > 3

    with pytest.raises(Superseded):
        _step(nets, _fresh(nets), Taken())
    assert no_hooks_left()


# -- the training loop: a step, the last save, a preview ---------------------------------------


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("[GD]_*.pth"))}


def test_a_stop_mid_step_keeps_the_last_save_as_it_was(tmp_path):
    from persona.rvc import train_checkpoint
    from persona.testing.training import build_pretrained

    cfg = training_config("40k", "tiny")
    token = StopAfter()
    saved: dict[str, str] = {}

    def on_save(epoch, net_g):
        saved.update(_digest(tmp_path))
        token.stop_in(40)  # well inside the next step's generator forward

    g, d = build_pretrained("40k", "tiny")
    with Spy() as spy:
        out = loop.run(
            cfg,
            write_examples(tmp_path, cfg.data.sampling_rate),
            tmp_path,
            epochs=3,
            batch_size=2,
            save_every=1,
            pretrained=(g.state_dict(), d.state_dict()),
            cancel=token,
            on_save=on_save,
        )
    assert out.stopped and out.epochs_done == 1
    assert [h["epoch"] for h in out.history] == [1]  # epoch 2's first step never finished
    assert spy.began > spy.returned  # a model call was left half way
    assert _digest(tmp_path) == saved  # the save on disk is byte for byte the epoch-1 one
    ckpt = train_checkpoint.load_pair(tmp_path)
    assert ckpt.epoch == 1
    state = out.net_g.state_dict()
    assert all(torch.equal(state[k], v) for k, v in ckpt.g["model"].items())
    assert no_hooks_left()


def _voice(settings) -> Path:
    from persona.testing.training import write_recordings, write_training_assets

    write_training_assets(settings.assets, "40k", "tiny")
    return write_recordings(settings.home.parent / "rec", count=1, seconds=4.0)[0]


def test_a_stop_during_a_saves_preview_keeps_the_save_without_it(settings, tmp_path):
    from persona.audio.resample import resample
    from persona.testing.training import build_pretrained
    from persona.training import saves
    from persona.training.previews import SaveKeeper

    cfg = training_config("40k", "tiny")
    sr = cfg.data.sampling_rate
    held, file_sr = sf.read(str(_voice(settings)), dtype="float32")
    source = tmp_path / "held.wav"
    sf.write(source, resample(held, file_sr, sr), sr, subtype="FLOAT")
    examples = write_examples(tmp_path, sr)
    keeper = SaveKeeper(
        settings, tmp_path, cfg, f0_method="rmvpe", preview_source=source,
        training_wavs=[e.wav for e in examples], index_path=None, metrics=("f0",),
    )  # fmt: skip
    keeper.start(previews_enabled=True, reason=None, resume_after=None)
    token = StopAfter()
    spy = Spy()

    def arm(module, args):  # the preview's first model call (RMVPE): stop a few layers in
        if not spy.began:
            token.stop_in(10)

    def on_save(epoch, net_g):
        handle = torch_module.register_module_forward_pre_hook(arm)
        try:
            with spy:
                return keeper.on_save(epoch, net_g)
        finally:
            handle.remove()

    g, d = build_pretrained("40k", "tiny")
    out = loop.run(
        cfg, examples, tmp_path, epochs=2, batch_size=2, save_every=1,
        pretrained=(g.state_dict(), d.state_dict()), cancel=token, on_save=on_save,
    )  # fmt: skip
    assert out.stopped and out.epochs_done == 1  # the save stands: the stop came after it
    assert spy.began > spy.returned  # the preview's model call never finished
    record = keeper.ledger["saves"][-1]
    assert record["epoch"] == 1 and record["preview"] is None
    assert record["metrics"]["unavailable_codes"] == {"preview": "preview_stopped"}
    assert (tmp_path / saves.model_file(1)).is_file() and not (tmp_path / saves.preview_file(1)).exists()
    assert saves.read(tmp_path)["saves"][-1]["epoch"] == 1
    assert no_hooks_left()


# -- feature extraction, conversion, separation ----------------------------------------------


def test_a_stop_inside_hubert_ends_feature_extraction_there(settings, tmp_path):
    from persona.assets import AssetManager
    from persona.training.features import FEATURE_DIR, extract_features
    from persona.training.preprocess import preprocess

    pre = preprocess(settings, [_voice(settings)], tmp_path, 40000, min_voice_seconds=1.0)
    segments = pre.segments[:1]
    token = StopAfter()
    calls = {"n": 0}

    def arm(module, args):  # the content encoder's first layer: stop a few layers later
        calls["n"] += 1
        if calls["n"] == 1:
            token.stop_in(10)

    handle = torch_module.register_module_forward_pre_hook(arm)
    try:
        with Spy() as spy, pytest.raises(Cancelled):
            extract_features(
                segments, tmp_path, sr=40000, f0_method="pm", assets=AssetManager(settings), cancel=token
            )
    finally:
        handle.remove()
    assert spy.began == 1 and spy.returned == 0  # f0 "pm" runs no torch: the one call is HuBERT's
    assert not list((tmp_path / FEATURE_DIR).glob("*.npy"))
    assert no_hooks_left()


def test_a_stop_inside_the_synthesizer_ends_a_conversion_and_a_live_token_changes_nothing(tmp_path):
    from persona.rvc.options import ConversionOptions
    from persona.testing.pipeline import fixture_pipeline, parity_input, write_pipeline_fixtures

    pipe = fixture_pipeline(write_pipeline_fixtures(tmp_path), index=None)
    counting = StopAfter()
    torch.manual_seed(0)  # the synthesizer draws noise
    watched = pipe.convert(parity_input(2.0), ConversionOptions(f0_method="pm"), cancel=counting)
    torch.manual_seed(0)
    plain = pipe.convert(parity_input(2.0), ConversionOptions(f0_method="pm"))
    assert watched[1] == plain[1] and np.array_equal(watched[0], plain[0])  # the hooks change nothing
    token = StopAfter(after=counting.looks - 10)  # the synthesizer runs last
    with Spy() as spy, pytest.raises(Cancelled):
        pipe.convert(parity_input(2.0), ConversionOptions(f0_method="pm"), cancel=token)
    assert spy.began > spy.returned
    assert no_hooks_left()


def test_a_stop_inside_the_separator_ends_the_separation(settings, tmp_path):
    from persona.separation import engine
    from persona.separation.models import MODELS
    from persona.testing.separation import synthetic_song, write_model

    w, c = write_model(settings.assets, "bs_roformer")
    runner = engine.load_separator(MODELS["bs_roformer"], w, c)
    song = tmp_path / "song.wav"
    sf.write(song, synthetic_song(2.0)["mix"].T, 44100, subtype="FLOAT")
    token = StopAfter(after=20)
    with Spy() as spy, pytest.raises(Cancelled):
        for _ in engine.separate_stream(runner, song, tmp_path / "t.wav", tmp_path / "r.wav", cancel=token):
            pass
    assert spy.began > spy.returned  # the model's chunk never finished
    assert not (tmp_path / "t.wav").exists() and not (tmp_path / "r.wav").exists()
    assert no_hooks_left()


def test_decoding_a_song_stops_within_a_block(tmp_path):
    from persona.audio.io import load_audio
    from persona.interrupt import interruptible

    song = tmp_path / "long.wav"
    sf.write(song, np.zeros((44100 * 120, 2), np.float32), 44100, subtype="FLOAT")
    load_audio(song, sr=16000)  # outside a region nothing looks
    token = StopAfter(after=2)
    with pytest.raises(Cancelled), interruptible(token):
        load_audio(song, sr=16000)
    assert token.looks == 3
    assert no_hooks_left()


def test_a_long_call_outside_torch_is_left_running_on_a_stop():
    from persona.interrupt import outside

    release, finished = threading.Event(), threading.Event()

    def index_training():  # stands for FAISS: one call nothing can stop
        release.wait(30)
        finished.set()
        return "index"

    assert outside(lambda: "done", StopAfter()) == "done"
    try:
        with pytest.raises(Cancelled):
            outside(index_training, StopAfter(after=1))
        assert not finished.is_set()  # the caller did not wait for it
    finally:
        release.set()
    assert finished.wait(30)


def test_harvest_pitch_is_the_same_in_a_region_and_stops_there():
    from persona.interrupt import interruptible
    from persona.rvc.f0 import compute_f0
    from persona.testing.content import voice_like

    wav = voice_like(2.0)
    args = dict(p_len=len(wav) // 160, pitch=0.0, filter_radius=3)
    plain = compute_f0("harvest", wav, **args)
    with interruptible(StopAfter()):
        watched = compute_f0("harvest", wav, **args)
    assert all(np.array_equal(a, b) for a, b in zip(plain, watched, strict=True))
    with pytest.raises(Cancelled), interruptible(StopAfter(after=0)):
        compute_f0("harvest", wav, **args)


def test_a_stop_during_a_checkpoint_write_keeps_that_save_without_waiting(tmp_path, monkeypatch):
    from persona.rvc import train_checkpoint
    from persona.testing.training import build_pretrained

    cfg = training_config("40k", "tiny")
    token = StopAfter()
    real_save, written = train_checkpoint.save_pair, threading.Event()

    def slow_save(*a, **k):  # stands for ~1 GB of a full-size pair
        time.sleep(2.0)
        out = real_save(*a, **k)
        written.set()
        return out

    monkeypatch.setattr(train_checkpoint, "save_pair", slow_save)
    g, d = build_pretrained("40k", "tiny")
    out = loop.run(
        cfg, write_examples(tmp_path, cfg.data.sampling_rate), tmp_path, epochs=2, batch_size=2,
        save_every=1, pretrained=(g.state_dict(), d.state_dict()), cancel=token,
        on_epoch=lambda epoch, entry: token.stop_in(0),
    )  # fmt: skip
    assert out.stopped and out.epochs_done == 1 and not written.is_set()  # it did not wait
    assert written.wait(30)  # the write finished on its own
    ckpt = train_checkpoint.load_pair(tmp_path)
    assert ckpt.epoch == 1
    state = out.net_g.state_dict()
    assert all(torch.equal(state[k], v) for k, v in ckpt.g["model"].items())
