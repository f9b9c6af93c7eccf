"""How long a training has left, from what its stages have measured so far.

A training's stages cost very different amounts per unit of progress (a recording, a feature
part, a training step, a save with its preview, the export), so the overall fraction is a poor
clock: an estimate from it swings with every stage. ``TrainingClock`` watches the same progress
events the page gets and measures each cost as it happens: seconds per training step, the
overhead at the end of a plain epoch and of a save epoch (checkpoint, preview, scoring). It
gives no estimate ("계산 중" on the page) until the training loop has timed a few steps, then a
range that narrows as the costs are measured: ``(low, mid, high)`` seconds left.

A save is priced before the first one is seen from what was measured before it: before the loop
the trainer loads the metric models and times them on a few seconds of the slice a preview
converts (``previews.SaveKeeper.warm_up``) and says so on a ``train`` event (``FACTS``); the
slice's conversion is priced from the features stage (the same pitch and content models over the
recordings) and the loop's fixed-batch eval (the synthesizer). With previews off the export's
quality report is priced from its conversion, widely (its scoring is not timed: that would load
the metric models before the loop). Without those facts a save is guessed from the epoch time,
widely.

``wrap(progress)`` returns a progress callback that adds ``eta_s`` (mid), ``eta_low_s`` and
``eta_high_s`` to each event (``eta_s`` None while it cannot tell), and replaces the loop's own
steps-only ``eta_s``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from persona.progress import ProgressFn

MIN_STEP_GAPS = 1  # timed steps before any estimate (the first step's time includes its start-up)
STEADY_STEP_GAPS = 8  # after these, the step cost's spread is measured
# What the trainer tells the clock before the loop (trainer.py, previews.SaveKeeper.warm_up).
FACTS = (
    "previews",  # saves carry a preview (converted and scored)
    "report",  # the export converts and scores the held-out segment (previews off; not timed)
    "voice_seconds",  # voice the features stage analysed
    "slice_seconds",  # the slice a preview (or the report) converts
    "scoring_s",  # scoring one conversion of it
    "voice_embed_s",  # the voice embedding the scores compare with, done once
    "eval_s",  # the loop's fixed-batch eval (the synthesizer) ...
    "eval_audio_s",  # ... over this much audio
)
CONVERT_PAD_S = 2.0  # the conversion pads its window by a second on each side (CPU)
# Synthesis per second of audio against the eval's seconds per second of its slices: the eval also
# encodes whole examples (and runs the posterior encoder) but decodes only the slices. Measured on
# the tiny model: a 9 s slice's conversion 5-6 s, the features + eval rates priced it at 8-9 s.
SYNTH_PER_EVAL = 0.6

Cost = tuple[float, float, float]  # (low, mid, high) seconds


def _scaled(c: Cost, k: float) -> Cost:
    return (c[0] * k, c[1] * k, c[2] * k)


def _sum(*costs: Cost) -> Cost:
    return (sum(c[0] for c in costs), sum(c[1] for c in costs), sum(c[2] for c in costs))


class TrainingClock:
    """Measured stage costs of one training run and the time left they imply."""

    def __init__(self, epochs: int, save_every: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.epochs = max(1, int(epochs))
        self.save_every = max(1, int(save_every))
        self.clock = clock
        self.step_gaps: list[float] = []
        self.later_gaps: list[float] = []  # after the run's first epoch (see _recent_gaps)
        self.first_epoch: int | None = None
        self.plain_overheads: list[float] = []
        self.save_overheads: list[float] = []
        self.steps_per_epoch: int | None = None
        self.position: tuple[int, int] | None = None  # (epoch, step) of the last step event
        self.last_step_t: float | None = None
        self.boundary: tuple[int, float, bool] | None = None  # (epoch, t of its last step, saved)
        self.export_started: float | None = None
        self.facts: dict[str, Any] = {}
        self.stage_span: dict[str, list[float]] = {}  # stage -> [first, last] event time

    # ---------------------------------------------------------------------------- observing

    def observe(self, stage: str, metrics: dict[str, Any], t: float | None = None) -> None:
        """Take one progress event (its stage and metrics) seen at time ``t``."""
        t = self.clock() if t is None else t
        span = self.stage_span.setdefault(stage, [t, t])
        span[1] = t
        self.facts.update({k: metrics[k] for k in FACTS if metrics.get(k) is not None})
        if stage == "train":
            self._train_event(metrics, t)
        elif stage == "export" and self.export_started is None:
            self.export_started = t

    def _train_event(self, m: dict[str, Any], t: float) -> None:
        if m.get("saved_epoch") is not None and self.boundary is not None:
            # the save (checkpoint, preview, scoring) ran from the epoch's last step to now; the
            # next step's gap is counted from here, so it holds only the plain epoch end
            epoch, last_t, _ = self.boundary
            took = max(0.0, t - last_t)
            if not self.save_overheads:  # the first save also did the one-off work (the voice embedding)
                took = max(0.3 * took, took - float(self.facts.get("voice_embed_s") or 0.0))
            self.save_overheads.append(took)
            self.boundary = (epoch, t, True)
            self.last_step_t = t
            return
        epoch, step, steps = m.get("epoch"), m.get("step"), m.get("steps")
        if not (isinstance(epoch, int) and isinstance(step, int) and isinstance(steps, int)) or m.get(
            "epoch_done"
        ):
            return
        self.steps_per_epoch = steps
        self.first_epoch = epoch if self.first_epoch is None else self.first_epoch
        if self.position is not None and self.last_step_t is not None:
            prev_epoch, prev_step = self.position
            gap = t - self.last_step_t
            if epoch == prev_epoch and step == prev_step + 1:
                self.step_gaps.append(gap)
                if epoch != self.first_epoch:
                    self.later_gaps.append(gap)
            elif epoch == prev_epoch + 1 and step == 1 and self.step_gaps:
                # from the epoch's last step (or its save) to the next epoch's first step: one
                # step plus the plain epoch end (a fixed-batch eval, the schedulers)
                self.plain_overheads.append(max(0.0, gap - self._step_cost()))
        if step == steps:
            self.boundary = (epoch, t, False)
        self.position = (epoch, step)
        self.last_step_t = t

    # ---------------------------------------------------------------------------- the parts

    def _recent_gaps(self) -> list[float]:
        """The last 50 step times; the first epoch's are left out once later ones are timed (its
        first steps read every file for the first time, build each new batch shape and share the
        CPU with the model checker's start: up to twice a later step on this machine)."""
        later = self.later_gaps if len(self.later_gaps) >= MIN_STEP_GAPS else self.step_gaps
        return later[-50:]

    def _step_cost(self) -> float:
        recent = self._recent_gaps()
        return statistics.median(recent) if recent else 0.0

    def _step_range(self) -> tuple[float, float]:
        """How far the step cost may move, as (low, high) factors: the spread of the recent steps
        (a shared machine's load moves it by a fifth and more), at least 20 %; while only a few
        are timed, down to 40 % (the first steps are the slow ones: 1.8 s against 0.85 s later on
        one run here) and up by a third."""
        gaps = sorted(self._recent_gaps())
        if len(gaps) < STEADY_STEP_GAPS:
            return (0.4, 1.3)
        cut = len(gaps) // 10
        spread = min(0.5, max(0.2, (gaps[-1 - cut] - gaps[cut]) / max(statistics.median(gaps), 1e-6)))
        return (1 - spread, 1 + spread)

    def _is_save(self, epoch: int) -> bool:
        return epoch % self.save_every == 0 or epoch == self.epochs

    def _features_rate(self) -> float | None:
        """Seconds of pitch + content features per second of voice, as the features stage ran
        them (its model loads included, as a save's first conversion loads them too)."""
        voice = self.facts.get("voice_seconds")
        before, features = self.stage_span.get("preprocess"), self.stage_span.get("features")
        if not voice or features is None:
            return None
        start = before[1] if before is not None else features[0]
        return max(0.0, features[1] - start) / float(voice)

    def _convert_cost(self) -> float | None:
        """Converting the slice: the features stage's models and the synthesizer (priced from the
        loop's fixed-batch eval, ``eval_s`` for ``eval_audio_s`` of slices) over the slice and the
        conversion's padding."""
        seconds = self.facts.get("slice_seconds")
        features = self._features_rate()
        eval_s, eval_audio = self.facts.get("eval_s"), self.facts.get("eval_audio_s")
        if seconds is None or (features is None and not eval_audio):
            return None
        synth = 0.0
        if eval_s is not None and eval_audio:
            # a step runs the generator, its backward and the discriminators: over 4x its eval (the
            # first eval can be slow: the first forward, the model checker starting beside it)
            step = self._step_cost()
            synth = (
                SYNTH_PER_EVAL * min(float(eval_s), step / 4 if step else float(eval_s)) / float(eval_audio)
            )
        return ((features or 0.0) + synth) * (float(seconds) + CONVERT_PAD_S)

    def _scored(self) -> Cost | None:
        """Converting and scoring the slice once, from the facts; None when not told."""
        scoring, convert = self.facts.get("scoring_s"), self._convert_cost()
        if scoring is not None:
            one = float(scoring) + (convert if convert is not None else float(scoring))
            return (0.6 * one, one, 2.0 * one)
        if convert is None:
            return None
        # not timed (the quality report, previews off): its scoring, the metric models' loads and
        # the voice embeddings, guessed from the conversion (tiny model: 7-9.5 s, 1.3-1.8 s priced)
        return (0.5 * convert, 4.5 * convert, 10.0 * convert)

    def _save_cost(self, epoch_s: float) -> Cost:
        """One save: measured once one was seen; before that priced from the trainer's facts."""
        if self.save_overheads:
            save = statistics.median(self.save_overheads[-3:])
            # the first save also loads the conversion's models: a later one may cost a third less
            return (0.8 * save if len(self.save_overheads) > 1 else 0.6 * save, save, 1.25 * save)
        checkpoint = (0.0, 0.05 * epoch_s, 0.5 * epoch_s)  # the checkpoint and the small model
        if self.facts.get("previews") is False:
            return checkpoint
        preview = self._scored()
        if preview is None:  # not told: a checkpoint and a preview conversion, from the epoch time
            return (0.1 * epoch_s, 0.5 * epoch_s, 4.0 * epoch_s)
        return _sum(checkpoint, preview)

    def _voice_embed(self) -> Cost:
        once = float(self.facts.get("voice_embed_s") or 0.0)
        return (0.7 * once, once, 1.5 * once)

    def _export_cost(self, save: Cost, epoch_s: float) -> Cost:
        """The export: the small model, the library's checks of it and its index, and with
        previews off the quality report (a conversion, its scoring, the voice embedding)."""
        if self.facts.get("previews") is None:  # not told (an old trace): guessed from a save
            return (0.2 * save[0], 0.6 * save[1], 1.5 * save[2])
        library = (0.0, 0.05 * epoch_s + 1.0, 0.5 * epoch_s + 15.0)
        report = self._scored() if self.facts.get("report") else None
        return _sum(library, report, self._voice_embed()) if report else library

    # ---------------------------------------------------------------------------- estimating

    def estimate(self, t: float | None = None) -> tuple[float, float, float] | None:
        """(low, mid, high) seconds left, or None while the training has not timed enough."""
        t = self.clock() if t is None else t
        if len(self.step_gaps) < MIN_STEP_GAPS or self.position is None or not self.steps_per_epoch:
            return None
        step = self._step_cost()
        slower = self._step_range()
        epoch_s = step * self.steps_per_epoch
        plain = statistics.median(self.plain_overheads[-5:]) if self.plain_overheads else 0.05 * epoch_s
        epoch, at = self.position
        since = max(0.0, t - (self.last_step_t or t))  # counts against what comes next
        saved_now = self.boundary is not None and self.boundary[0] == epoch and self.boundary[2]
        in_save = at == self.steps_per_epoch and self._is_save(epoch) and not saved_now
        save = self._save_cost(epoch_s)
        # the next save: the first one also embeds the training voice (the previews' reference)
        first = not self.save_overheads and self.facts.get("previews") is True
        following = _sum(save, self._voice_embed()) if first else save
        if in_save and since > following[0]:
            # the save under way takes longer than thought: so will the next ones
            grown = max(following[1], since * 1.2)
            save = _scaled(save, grown / max(following[1], 1e-6))
            following = (since, grown, max(following[2], since * 2.0))
        export = self._export_cost(save, epoch_s)

        if self.export_started is not None:
            gone = t - self.export_started
            return (max(0.0, export[0] - gone), max(1.0, export[1] - gone), max(2.0, export[2] - gone))

        steps_left = (self.epochs - epoch) * self.steps_per_epoch + (self.steps_per_epoch - at)
        # epoch ends to come: this one's (its save too, unless that already reported), then each later one
        later = range(epoch + 1, self.epochs + 1)
        saves = sum(1 for e in later if self._is_save(e)) + (
            1 if self._is_save(epoch) and not saved_now else 0
        )
        ends = len(later) + 1
        total = _sum(
            _scaled((slower[0], 1.0, slower[1]), steps_left * step),
            _scaled((0.8, 1.0, 1.25), ends * plain),
            following if saves else (0.0, 0.0, 0.0),
            _scaled(save, max(0, saves - 1)),
            export,
        )
        return (max(0.0, total[0] - since), max(0.0, total[1] - since), max(0.0, total[2] - since))

    # ---------------------------------------------------------------------------- wiring

    def wrap(self, progress: ProgressFn) -> ProgressFn:
        """A progress callback that measures each event and carries this clock's estimate."""

        def report(stage: str, fraction: float, message: str = "", **metrics: Any) -> None:
            now = self.clock()
            self.observe(stage, metrics, now)
            guess = self.estimate(now)
            metrics.pop("eta_s", None)  # the loop's own guess counts steps only
            if guess is None:
                metrics.update(eta_s=None, eta_low_s=None, eta_high_s=None)
            else:
                low, mid, high = (round(v, 1) for v in guess)
                metrics.update(eta_s=mid, eta_low_s=low, eta_high_s=high)
            progress(stage, fraction, message, **metrics)

        return report


def _metrics(ev: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ev.items() if k not in ("t", "stage", "fraction", "code", "params")}


def replay(events: list[dict[str, Any]], epochs: int, save_every: int) -> list[tuple[float, Any]]:
    """Feed a recorded trace (``{"t", "stage", ...metrics}`` dicts) through a clock: the estimate
    after each event as ``(t, (low, mid, high) | None)`` (tests and benchmarks)."""
    clock = TrainingClock(epochs, save_every, clock=lambda: 0.0)
    out = []
    for ev in events:
        clock.observe(ev["stage"], _metrics(ev), ev["t"])
        out.append((ev["t"], clock.estimate(ev["t"])))
    return out


def estimate_at(events: list[dict[str, Any]], epochs: int, save_every: int, t: float) -> Cost | None:
    """What the clock says at time ``t`` of a recorded trace, having seen the events until then."""
    clock = TrainingClock(epochs, save_every, clock=lambda: 0.0)
    for ev in events:
        if ev["t"] > t:
            break
        clock.observe(ev["stage"], _metrics(ev), ev["t"])
    return clock.estimate(t)
