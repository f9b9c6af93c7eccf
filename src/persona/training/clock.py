"""How long a training has left, from what its stages have measured so far.

A training's stages cost very different amounts per unit of progress (a recording, a feature
part, a training step, a save with its preview, the export), so the overall fraction is a poor
clock: an estimate from it swings with every stage. ``TrainingClock`` watches the same progress
events the page gets and measures each cost as it happens: seconds per training step, the
overhead at the end of a plain epoch and of a save epoch (checkpoint, preview, scoring). It
gives no estimate ("계산 중" on the page) until the training loop has timed a few steps, then a
range that narrows as the costs are measured: ``(low, mid, high)`` seconds left. The first save
and the export are guessed from the epoch time until they have been seen.

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

MIN_STEP_GAPS = 2  # timed steps before any estimate
STEADY_STEP_GAPS = 8  # after these, the step cost is known to about ±10 %


class TrainingClock:
    """Measured stage costs of one training run and the time left they imply."""

    def __init__(self, epochs: int, save_every: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.epochs = max(1, int(epochs))
        self.save_every = max(1, int(save_every))
        self.clock = clock
        self.step_gaps: list[float] = []
        self.plain_overheads: list[float] = []
        self.save_overheads: list[float] = []
        self.steps_per_epoch: int | None = None
        self.position: tuple[int, int] | None = None  # (epoch, step) of the last step event
        self.last_step_t: float | None = None
        self.boundary: tuple[int, float, bool] | None = None  # (epoch, t of its last step, saved)
        self.export_started: float | None = None

    # ---------------------------------------------------------------------------- observing

    def observe(self, stage: str, metrics: dict[str, Any], t: float | None = None) -> None:
        """Take one progress event (its stage and metrics) seen at time ``t``."""
        t = self.clock() if t is None else t
        if stage == "train":
            self._train_event(metrics, t)
        elif stage == "export" and self.export_started is None:
            self.export_started = t

    def _train_event(self, m: dict[str, Any], t: float) -> None:
        if m.get("saved_epoch") is not None and self.boundary is not None:
            # the save (checkpoint, preview, scoring) ran from the epoch's last step to now; the
            # next step's gap is counted from here, so it holds only the plain epoch end
            epoch, last_t, _ = self.boundary
            self.save_overheads.append(max(0.0, t - last_t))
            self.boundary = (epoch, t, True)
            self.last_step_t = t
            return
        epoch, step, steps = m.get("epoch"), m.get("step"), m.get("steps")
        if not (isinstance(epoch, int) and isinstance(step, int) and isinstance(steps, int)) or m.get(
            "epoch_done"
        ):
            return
        self.steps_per_epoch = steps
        if self.position is not None and self.last_step_t is not None:
            prev_epoch, prev_step = self.position
            gap = t - self.last_step_t
            if epoch == prev_epoch and step == prev_step + 1:
                self.step_gaps.append(gap)
            elif epoch == prev_epoch + 1 and step == 1 and self.step_gaps:
                # from the epoch's last step (or its save) to the next epoch's first step: one
                # step plus the plain epoch end (a fixed-batch eval, the schedulers)
                self.plain_overheads.append(max(0.0, gap - self._step_cost()))
        if step == steps:
            self.boundary = (epoch, t, False)
        self.position = (epoch, step)
        self.last_step_t = t

    # ---------------------------------------------------------------------------- estimating

    def _step_cost(self) -> float:
        recent = self.step_gaps[-50:]
        return statistics.median(recent) if recent else 0.0

    def _is_save(self, epoch: int) -> bool:
        return epoch % self.save_every == 0 or epoch == self.epochs

    def estimate(self, t: float | None = None) -> tuple[float, float, float] | None:
        """(low, mid, high) seconds left, or None while the training has not timed enough."""
        t = self.clock() if t is None else t
        if len(self.step_gaps) < MIN_STEP_GAPS or self.position is None or not self.steps_per_epoch:
            return None
        step = self._step_cost()
        spread = 0.1 if len(self.step_gaps) >= STEADY_STEP_GAPS else 0.25
        epoch_s = step * self.steps_per_epoch
        plain = statistics.median(self.plain_overheads[-5:]) if self.plain_overheads else 0.05 * epoch_s
        epoch, at = self.position
        since = max(0.0, t - (self.last_step_t or t))  # counts against what comes next
        saved_now = self.boundary is not None and self.boundary[0] == epoch and self.boundary[2]
        in_save = at == self.steps_per_epoch and self._is_save(epoch) and not saved_now
        if self.save_overheads:
            save = statistics.median(self.save_overheads[-3:])
            save_range = (0.8 * save, 1.25 * save)
        else:  # not seen yet: a checkpoint and a preview conversion, guessed from the epoch time
            save = 0.5 * epoch_s
            save_range = (0.1 * epoch_s, 4.0 * epoch_s)
        if in_save and since > save_range[0]:
            # the save under way takes longer than thought: so will the next ones
            save, save_range = max(save, since * 1.2), (since, max(save_range[1], since * 2.0))
        # the export: index, small model, the quality facts (mostly reused from the last save)
        export = 0.6 * save
        export_range = (0.2 * save_range[0], 1.5 * save_range[1])

        if self.export_started is not None:
            gone = t - self.export_started
            return (
                max(0.0, export_range[0] - gone),
                max(1.0, export - gone),
                max(2.0, export_range[1] - gone),
            )

        steps_left = (self.epochs - epoch) * self.steps_per_epoch + (self.steps_per_epoch - at)
        # epoch ends to come: this one's (its save too, unless that already reported), then each later one
        later = range(epoch + 1, self.epochs + 1)
        saves = sum(1 for e in later if self._is_save(e)) + (
            1 if self._is_save(epoch) and not saved_now else 0
        )
        ends = len(later) + 1
        low = steps_left * step * (1 - spread) + ends * plain * 0.8 + saves * save_range[0] + export_range[0]
        mid = steps_left * step + ends * plain + saves * save + export
        high = (
            steps_left * step * (1 + spread) + ends * plain * 1.25 + saves * save_range[1] + export_range[1]
        )
        return (max(0.0, low - since), max(0.0, mid - since), max(0.0, high - since))

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


def replay(events: list[dict[str, Any]], epochs: int, save_every: int) -> list[tuple[float, Any]]:
    """Feed a recorded trace (``{"t", "stage", ...metrics}`` dicts) through a clock: the estimate
    after each event as ``(t, (low, mid, high) | None)`` (tests and benchmarks)."""
    clock = TrainingClock(epochs, save_every, clock=lambda: 0.0)
    out = []
    for ev in events:
        metrics = {k: v for k, v in ev.items() if k not in ("t", "stage", "fraction", "code", "params")}
        clock.observe(ev["stage"], metrics, ev["t"])
        out.append((ev["t"], clock.estimate(ev["t"])))
    return out
