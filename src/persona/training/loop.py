"""The GAN training loop, as RVC's `train/train.py` runs it (single process).

Per step: the generator's training forward gives a random ``segment_size`` slice of audio; the
target mel is sliced from the spectrogram's mel at the same place; the discriminator (multi-period
V2) steps on LSGAN loss with the generator output detached; then the generator steps on
``adv + feature matching + 45 * mel L1 + 1 * KL``. AdamW (lr 1e-4, betas (0.8, 0.99), eps 1e-9),
ExponentialLR 0.999875 stepped once per epoch; gradients are unscaled and their norm measured as
RVC's ``clip_grad_value_(params, None)`` does (RVC clips nothing). fp16 autocast + GradScaler
on CUDA only. Differs in: a Stop ends the work inside any layer of a step, the epoch's
measurement or a save's preview (``persona.interrupt``), never inside an optimizer's update, and
the loop returns the last saved checkpoint (completed epochs); resume restarts the interrupted
epoch instead of repeating the last finished one; progress reports epoch, step, losses and an ETA.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from persona.errors import Cancelled, PersonaError
from persona.interrupt import interruptible, outside
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.rvc import train_checkpoint
from persona.training.config import TrainConfig
from persona.training.data import BucketBatchSampler, Example, VoiceDataset, collate
from persona.training.losses import discriminator_loss, feature_loss, generator_loss, kl_loss
from persona.training.mel import mel_spectrogram, spec_to_mel

log = logging.getLogger(__name__)


@dataclasses.dataclass
class LoopResult:
    epochs_done: int
    global_step: int
    stopped: bool
    history: list[dict[str, float]]  # one entry per finished (or stopped) epoch: mean losses
    initial_eval_mel: float  # fixed-batch mel loss before this run's first step
    seconds: float
    net_g: torch.nn.Module


def _back_to_last_save(net_g: torch.nn.Module, exp_dir: Path, epoch: int | None) -> int:
    """After a stop: the generator as last saved (not half an epoch on); 0 when nothing was saved."""
    if epoch is None:
        return 0
    saved = train_checkpoint.load_last_generator(exp_dir)
    if saved is None:
        return 0
    net_g.load_state_dict(saved[1])
    return saved[0]


def slice_segments(x: torch.Tensor, starts: torch.Tensor, size: int) -> torch.Tensor:
    """(B, C, T) -> (B, C, size) from per-row start frames (RVC's commons.slice_segments)."""
    out = torch.zeros_like(x[:, :, :size])
    for i in range(x.size(0)):
        s = int(starts[i])
        out[i] = x[i, :, s : s + size]
    return out


def grad_norm(params) -> float:
    total = 0.0
    for p in params:
        if p.grad is not None:
            total += float(p.grad.detach().norm(2)) ** 2
    return math.sqrt(total)


@torch.no_grad()
def fixed_batch_mel_loss(net_g: torch.nn.Module, batch, cfg: TrainConfig, dev: torch.device) -> float:
    """Mel L1 (x c_mel) of the generator on one fixed batch, fixed noise, slices from frame 0.

    The per-step mel loss jumps with the random slice and batch; this one only moves when the
    model does, so it shows learning (reported per epoch as ``eval_mel``).
    """
    d = cfg.data
    phone, phone_len, pitch, pitchf, spec, spec_len, _wave, _wl, sid = (t.to(dev) for t in batch)
    gen = torch.Generator(device=dev).manual_seed(0)
    starts = torch.zeros(phone.shape[0], dtype=torch.long, device=dev)
    y_hat, ids, *_ = net_g(
        phone, phone_len, pitch, pitchf, spec, spec_len, sid, generator=gen, slice_starts=starts
    )
    mel = spec_to_mel(spec, d.filter_length, d.n_mel_channels, d.sampling_rate, d.mel_fmin, d.mel_fmax)
    y_mel = slice_segments(mel, ids, cfg.segment_frames)
    y_hat_mel = mel_spectrogram(
        y_hat.float().squeeze(1), d.filter_length, d.n_mel_channels, d.sampling_rate,
        d.hop_length, d.win_length, d.mel_fmin, d.mel_fmax,
    )  # fmt: skip
    return float(F.l1_loss(y_mel, y_hat_mel) * cfg.train.c_mel)


def _timed_eval(net_g: torch.nn.Module, batch, cfg: TrainConfig, dev: torch.device) -> tuple[float, float]:
    """``fixed_batch_mel_loss`` and the seconds it took (rounded to ms)."""
    started = time.monotonic()
    mel = fixed_batch_mel_loss(net_g, batch, cfg, dev)
    return mel, round(time.monotonic() - started, 3)


class StepStopped(Exception):
    """A Stop arrived in the middle of a training step (``train_step``'s ``cancel``)."""


def train_step(
    net_g: torch.nn.Module,
    net_d: torch.nn.Module,
    optim_g: torch.optim.Optimizer,
    optim_d: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    batch: Sequence[torch.Tensor],
    cfg: TrainConfig,
    dev: torch.device,
    cancel: CancelToken | None = None,
) -> dict[str, float]:
    """One GAN step as RVC's ``train_and_evaluate`` runs it: the discriminator, then the generator.

    ``cancel``: a Stop raises ``StepStopped`` from inside whichever layer of the three passes runs
    (forward or backward; a full-size CPU step takes ~12 s), never from an optimizer's update; the
    loop then goes back to the last save, so a half step is never kept. A superseded attempt's
    token raises ``Superseded`` the same way."""
    try:
        with interruptible(cancel):
            use_amp = dev.type == "cuda"
            d, hp, seg_frames = cfg.data, cfg.train, cfg.segment_frames
            phone, phone_len, pitch, pitchf, spec, spec_len, wave, _wave_len, sid = (
                t.to(dev, non_blocking=True) for t in batch
            )
            with torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
                y_hat, ids_slice, _x_mask, z_mask, (_z, z_p, m_p, logs_p, _m_q, logs_q) = net_g(
                    phone, phone_len, pitch, pitchf, spec, spec_len, sid
                )
                mel = spec_to_mel(
                    spec, d.filter_length, d.n_mel_channels, d.sampling_rate, d.mel_fmin, d.mel_fmax
                )
                y_mel = slice_segments(mel, ids_slice, seg_frames)
                with torch.autocast(dev.type, enabled=False):
                    y_hat_mel = mel_spectrogram(
                        y_hat.float().squeeze(1),
                        d.filter_length,
                        d.n_mel_channels,
                        d.sampling_rate,
                        d.hop_length,
                        d.win_length,
                        d.mel_fmin,
                        d.mel_fmax,
                    )
                if use_amp:
                    y_hat_mel = y_hat_mel.half()
                wave_seg = slice_segments(wave, ids_slice * d.hop_length, hp.segment_size)
                y_d_r, y_d_g, _, _ = net_d(wave_seg, y_hat.detach())
                with torch.autocast(dev.type, enabled=False):
                    loss_disc, _, _ = discriminator_loss(y_d_r, y_d_g)
            optim_d.zero_grad()
            scaler.scale(loss_disc).backward()
            scaler.unscale_(optim_d)
            grad_d = grad_norm(net_d.parameters())
            scaler.step(optim_d)

            # The generator's pass needs the discriminator's input gradients only: RVC also computes its
            # weight gradients here and discards them at the next zero_grad, a third of this backward.
            # Frozen, the discriminator's real branch builds no graph either; every number stays the same.
            net_d.requires_grad_(False)
            try:
                with torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
                    _, y_d_g, fmap_r, fmap_g = net_d(wave_seg, y_hat)
                    with torch.autocast(dev.type, enabled=False):
                        loss_mel = F.l1_loss(y_mel.float(), y_hat_mel.float()) * hp.c_mel
                        loss_kl = kl_loss(z_p, logs_q, m_p, logs_p, z_mask) * hp.c_kl
                        loss_fm = feature_loss(fmap_r, fmap_g)
                        loss_gen, _ = generator_loss(y_d_g)
                        loss_all = loss_gen + loss_fm + loss_mel + loss_kl
                optim_g.zero_grad()
                scaler.scale(loss_all).backward()
            finally:
                net_d.requires_grad_(True)
            scaler.unscale_(optim_g)
            grad_g = grad_norm(net_g.parameters())
            scaler.step(optim_g)
            scaler.update()
            return {
                "loss_disc": loss_disc.item(),
                "loss_gen": loss_gen.item(),
                "loss_fm": loss_fm.item(),
                "loss_mel": loss_mel.item(),
                "loss_kl": loss_kl.item(),
                "grad_norm_g": grad_g,
                "grad_norm_d": grad_d,
            }
    except Cancelled as exc:
        raise StepStopped() from exc


def make_optimizers(
    net_g: torch.nn.Module, net_d: torch.nn.Module, cfg: TrainConfig
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """RVC's AdamW for each net (lr, betas and eps from the config)."""
    hp = cfg.train
    return tuple(  # type: ignore[return-value]
        torch.optim.AdamW(net.parameters(), hp.learning_rate, betas=hp.betas, eps=hp.eps)
        for net in (net_g, net_d)
    )


def build_nets(cfg: TrainConfig, use_amp: bool = False) -> tuple[torch.nn.Module, torch.nn.Module]:
    from persona.training.nets import build_discriminator, build_generator

    return build_generator(cfg, is_half=use_amp), build_discriminator(cfg)


def run(
    cfg: TrainConfig,
    examples: Sequence[Example],
    exp_dir: Path,
    *,
    epochs: int,
    batch_size: int,
    save_every: int,
    pretrained: tuple[dict, dict] | Callable[[], tuple[dict, dict] | None] | None,
    device: str = "cpu",
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    on_save: Callable[[int, torch.nn.Module], dict | None] | None = None,
) -> LoopResult:
    """Train until ``epochs`` are done or ``cancel`` is set.

    A stop ends before the next step and returns the generator as last saved (``epochs_done`` is
    that checkpoint's epoch; 0 when no checkpoint was saved yet, and then nothing is written).
    ``on_save(epoch, net_g)`` runs after each regular save (previews, metrics; the generator is
    in eval mode meanwhile); the fields it returns travel in one progress event (``saved_epoch``).
    """
    torch.manual_seed(cfg.train.seed)
    dev = torch.device(device)
    use_amp = dev.type == "cuda"
    # Building the nets and reading the base take seconds at full size, in calls nothing stops.
    net_g, net_d = outside(lambda: build_nets(cfg, use_amp), cancel)
    net_g, net_d = net_g.to(dev), net_d.to(dev)
    hp = cfg.train
    optim_g, optim_d = make_optimizers(net_g, net_d, cfg)

    saved = train_checkpoint.load_pair(exp_dir)
    if saved is not None:
        net_g.load_state_dict(saved.g["model"])
        net_d.load_state_dict(saved.d["model"])
        optim_g.load_state_dict(saved.g["optimizer"])
        optim_d.load_state_dict(saved.d["optimizer"])
        first_epoch, global_step = saved.epoch + 1, saved.global_step
        log.info("resuming after epoch %d (step %d)", saved.epoch, global_step)
        saved = None  # free the checkpoint's tensors (the nets and optimizers hold copies)
    else:
        first_epoch, global_step = 1, 0
        if callable(pretrained):
            pretrained = outside(pretrained, cancel)
        if pretrained is not None:
            for net, state, what in (
                (net_g, pretrained[0], "generator"),
                (net_d, pretrained[1], "discriminator"),
            ):
                try:
                    net.load_state_dict(state)  # strict, as RVC loads its pretrained base
                except RuntimeError as exc:
                    raise PersonaError(
                        "model_invalid",
                        f"the pretrained {what} does not fit a {cfg.rate} v2 model: {str(exc).splitlines()[0]}",
                    ) from exc
            del state
        pretrained = None  # the nets hold copies now; free the file's tensors
    # ExponentialLR as RVC builds it with last_epoch = first_epoch - 2: lr = base * gamma**(epoch - 1).
    scheds = []
    for opt in (optim_g, optim_d):
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, hp.lr_decay)
        for group in opt.param_groups:
            group["lr"] = hp.learning_rate * hp.lr_decay ** (first_epoch - 1)
        sched.last_epoch = first_epoch - 1
        scheds.append(sched)
    sched_g, sched_d = scheds

    dataset = VoiceDataset(examples, cfg.data)
    sampler = BucketBatchSampler(dataset.lengths, batch_size)
    if len(sampler) == 0:
        raise PersonaError(
            "not_enough_voice", "no segment is long enough to train on (each needs at least ~0.8 s of voice)"
        )
    # On a GPU, two workers keep it fed (RVC uses 4); on CPU the main process is faster.
    workers = 2 if use_amp else 0
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=workers,
        pin_memory=use_amp,
        persistent_workers=workers > 0,
    )
    steps_per_epoch = max(1, len(sampler))
    # The first few (non-silent) examples, for the per-epoch fixed-batch mel loss.
    eval_batch = collate([dataset[i] for i in range(min(len(dataset), max(1, batch_size)))])
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    history: list[dict[str, float]] = []
    initial_eval_mel = math.nan
    # The eval's cost prices a preview's synthesis before the first save (persona.training.clock).
    eval_audio_s = round(int(eval_batch[0].shape[0]) * cfg.train.segment_size / cfg.data.sampling_rate, 3)
    eval_s = math.nan
    started = time.monotonic()
    steps_run = 0
    total_steps = steps_per_epoch * max(0, epochs - first_epoch + 1)
    epoch_done = first_epoch - 1
    stopped = False
    # The epoch of the checkpoint on disk (a resumed run starts from one); a stop goes back to it.
    last_saved: list[int | None] = [first_epoch - 1 if first_epoch > 1 else None]
    moved = [False]  # the generator has left the checkpoint on disk (a step began since)

    def save(epoch: int) -> None:
        cancel.check_owner()  # a superseded run must not overwrite the current run's checkpoint
        step = global_step
        try:  # ~1 GB at full size, seconds in calls nothing stops: a Stop does not wait for it
            outside(
                lambda: train_checkpoint.save_pair(
                    exp_dir,
                    net_g,
                    net_d,
                    optim_g,
                    optim_d,
                    epoch=epoch,
                    global_step=step,
                    extra={"epochs": epochs, "rate": cfg.rate, "size": cfg.size},
                ),
                cancel,
            )
        finally:  # stopped or not, the generator in memory is what the save holds (the write goes on)
            last_saved[0], moved[0] = epoch, False

    def report(message: str, epoch: int, **metrics: Any) -> None:
        """The run's progress over all its steps, at ``epoch``."""
        progress("train", steps_run / max(1, total_steps), message, epoch=epoch, epochs=epochs, **metrics)

    # Every model call below looks at the token (persona.interrupt): a Stop in a step is
    # StepStopped; one in the epoch's measurement or a save's preview arrives as Cancelled.
    try:
        with interruptible(cancel):
            initial_eval_mel, eval_s = _timed_eval(net_g, eval_batch, cfg, dev)
            started = time.monotonic()
            for epoch in range(first_epoch, epochs + 1):
                sampler.set_epoch(epoch)
                net_g.train()
                net_d.train()
                sums: dict[str, float] = {}
                n = 0
                for batch_idx, batch in enumerate(loader):
                    if cancel.cancelled:  # before the step: Stop never waits for one more step to run
                        stopped = True
                        break
                    moved[0] = True
                    try:
                        losses = train_step(net_g, net_d, optim_g, optim_d, scaler, batch, cfg, dev, cancel)
                    except StepStopped:  # a Stop inside the step: it is not counted, the last save is kept
                        stopped = True
                        break
                    global_step += 1
                    steps_run += 1

                    for k, v in losses.items():
                        sums[k] = sums.get(k, 0.0) + v
                    n += 1
                    elapsed = time.monotonic() - started
                    remaining = total_steps - steps_run
                    eta = elapsed / steps_run * remaining if steps_run else None
                    report(
                        msg("train_epoch", epoch=epoch, epochs=epochs),
                        epoch,
                        step=batch_idx + 1,
                        steps=steps_per_epoch,
                        global_step=global_step,
                        lr=optim_g.param_groups[0]["lr"],
                        eta_s=eta,
                        **{k: round(v, 4) for k, v in losses.items()},
                        **({"eval_s": eval_s, "eval_audio_s": eval_audio_s} if steps_run == 1 else {}),
                    )
                    if cancel.cancelled:
                        stopped = True
                        break
                if n:
                    means = {k: v / n for k, v in sums.items()}
                    history.append(
                        {"epoch": epoch, "steps": n, **means, "eval_mel": None, "partial": stopped}
                    )
                    if not stopped:  # a stopped epoch is dropped: its measurement would say nothing
                        history[-1]["eval_mel"], eval_s = _timed_eval(net_g, eval_batch, cfg, dev)
                if stopped:
                    break
                sched_g.step()
                sched_d.step()
                epoch_done = epoch
                if history:
                    summary = {k: round(v, 4) for k, v in history[-1].items() if isinstance(v, float)}
                    report(
                        msg("train_epoch_done", epoch=epoch, epochs=epochs),
                        epoch,
                        epoch_done=True,
                        **summary,
                        eval_s=eval_s,
                        eval_audio_s=eval_audio_s,
                    )
                if on_epoch is not None:
                    on_epoch(epoch, history[-1] if history else {})
                if epoch % save_every == 0 or epoch == epochs:
                    save(epoch)
                    if (
                        on_save is not None and not cancel.cancelled
                    ):  # a Stop keeps this save, skips its preview
                        net_g.eval()
                        # The preview must not move the training's random stream (conversion draws noise).
                        with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
                            extra = on_save(epoch, net_g) or {}
                        net_g.train()
                        report(msg("train_saved", epoch=epoch), epoch, saved_epoch=epoch, **extra)
    except Cancelled:  # in the epoch's measurement or a save's preview: the save on disk stands
        stopped = True
        if history and history[-1].get("eval_mel") is None:
            history[-1]["partial"] = True
    if stopped:
        epoch_done = _back_to_last_save(net_g, exp_dir, last_saved[0]) if moved[0] else (last_saved[0] or 0)
    net_g.eval()
    return LoopResult(
        epochs_done=epoch_done,
        global_step=global_step,
        stopped=stopped,
        history=history,
        initial_eval_mel=initial_eval_mel,
        seconds=time.monotonic() - started,
        net_g=net_g,
    )
