"""At every save of a training: keep the generator, convert the held-out slice, score it (``saves.py``).

``SaveKeeper`` is what the training loop calls: ``on_epoch`` records the epoch's mean losses in
the ledger, ``on_save`` exports the generator as a small model (``saves/e0005.pth``), converts the
preview slice through it with the training's pitch method and the voice's index (as a cover would
use the model), writes ``previews/e0005.wav`` (16-bit) and scores it with ``persona.quality``
(speaker similarity to the training recordings, F0 fidelity to the slice, DNSMOS), then chooses
the best save so far and prunes model files. ``final_model`` picks what to export. The voice
embedding of the recordings and the slice's own f0 contour are computed once, before the loop.
A failed preview or metric never fails the training: the save says why it has none. A Stop
during a preview (its model calls look at the training's token, ``persona.interrupt``) keeps the
save, marked ``preview_stopped``, and goes on up to the training loop.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from persona import provenance
from persona.errors import Cancelled, Superseded
from persona.quality.reasons import REASONS
from persona.settings import Settings
from persona.training import saves
from persona.training.config import TrainConfig

log = logging.getLogger(__name__)

VOICE_FILES, VOICE_SECONDS = 20, 60.0  # the training voice the previews are scored against
CALIBRATION_SECONDS = 3.0  # of the slice, to time the speaker encoder and DNSMOS before the first save


def _timed(func, *args) -> float:
    started = time.monotonic()
    func(*args)
    return time.monotonic() - started


def _rounded(d: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


class SaveKeeper:
    def __init__(
        self,
        settings: Settings,
        exp: Path,
        cfg: TrainConfig,
        *,
        f0_method: str,
        f0_unvoiced: str = "zero",
        preview_source: Path | None,
        training_wavs: Iterable[Path],
        index_path: Path | None,
        prefer: str = "best",
        metrics: Iterable[str] | None = None,
        keep_last: int = saves.KEEP_LAST,
    ) -> None:
        from persona.quality import ALL

        self.settings, self.exp, self.cfg = settings, Path(exp), cfg
        self.f0_method, self.index_path, self.prefer = f0_method, index_path, prefer
        self.f0_unvoiced = f0_unvoiced
        self.metrics = tuple(ALL if metrics is None else metrics)
        self.keep_last = keep_last
        self.source = Path(preview_source) if preview_source else None
        self.training_wavs = list(training_wavs)
        self._voice: Any = None
        self._contour: Any = None
        self._held: tuple[np.ndarray, int] | None = None
        self.ledger = saves.read(self.exp)

    # -- the ledger ------------------------------------------------------------------------------
    def start(self, *, previews_enabled: bool, reason: str | None, resume_after: int | None) -> None:
        """A fresh ledger, or on resume the old one without what came after the checkpoint."""
        if resume_after is None:
            self.ledger = saves.empty()
        else:
            self.ledger["epochs"] = [e for e in self.ledger["epochs"] if e.get("epoch", 0) <= resume_after]
            self.ledger["saves"] = [s for s in self.ledger["saves"] if s["epoch"] <= resume_after]
        seconds = None
        if previews_enabled and self.source is not None:
            seconds = round(sf.info(str(self.source)).duration, 2)
        self.ledger["previews"] = {"enabled": bool(previews_enabled), "reason": reason, "seconds": seconds}
        self.ledger["prefer"] = self.prefer
        saves.write(self.exp, self.ledger)

    @property
    def previews_enabled(self) -> bool:
        return bool(self.ledger["previews"].get("enabled")) and self.source is not None

    def on_epoch(self, epoch: int, entry: dict) -> None:
        row = _rounded({k: v for k, v in entry.items() if isinstance(v, (int, float, bool))})
        row["epoch"] = epoch
        self.ledger["epochs"] = [e for e in self.ledger["epochs"] if e.get("epoch") != epoch] + [row]
        saves.write(self.exp, self.ledger)

    # -- one save --------------------------------------------------------------------------------
    def on_save(self, epoch: int, net_g) -> dict[str, Any]:
        from persona.training.export import export_small_model

        model = self.exp / saves.model_file(epoch)
        model.parent.mkdir(parents=True, exist_ok=True)
        export_small_model(net_g, self.cfg, epoch, model, f0_unvoiced=self.f0_unvoiced)
        losses = next((e for e in reversed(self.ledger["epochs"]) if e.get("epoch") == epoch), {})
        record: dict[str, Any] = {
            "epoch": epoch,
            "model": saves.model_file(epoch),
            "preview": None,
            "metrics": {},
            "losses": {k: v for k, v in losses.items() if k != "epoch"},
        }
        if self.previews_enabled:
            try:
                record["metrics"] = self._preview(epoch, model)
                record["preview"] = saves.preview_file(epoch)
            except Cancelled:  # a Stop during the preview: the save stands, without one
                record["metrics"] = {
                    "unavailable": {"preview": REASONS["preview_stopped"]},
                    "unavailable_codes": {"preview": "preview_stopped"},
                }
                self._keep(record)
                raise
            except Superseded:
                raise
            except Exception as exc:  # a preview is a bonus: it never fails the training
                log.exception("preview at epoch %d failed", epoch)
                reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                record["metrics"] = {
                    "unavailable": {"preview": reason},
                    "unavailable_codes": {"preview": "preview_failed"},
                }
        self._keep(record)
        choice = self.ledger["choice"] or {}
        flat = {k: v for k, v in record["metrics"].items() if isinstance(v, (int, float)) or v is None}
        return {
            **flat,
            "save_metrics": record["metrics"],
            "preview_ready": record["preview"] is not None,
            "best_epoch": choice.get("epoch"),
            "plateau": saves.plateau(self.ledger["saves"]),
        }

    def _keep(self, record: dict[str, Any]) -> None:
        """The save in the ledger, the best one chosen again, older model files pruned."""
        self.ledger["saves"] = [s for s in self.ledger["saves"] if s["epoch"] != record["epoch"]] + [record]
        self.ledger["choice"] = saves.choose(self.ledger["saves"], self.prefer)
        saves.prune(self.exp, self.ledger, self.keep_last)
        saves.write(self.exp, self.ledger)

    def warm_up(self, report_source: Path | None = None) -> dict[str, Any]:
        """Price the previews' scoring before the training loop (``persona.training.clock``).

        Loads the metric models now (the first save would), tracks the slice's f0 (the first save
        would; the same work as tracking each preview) and times the speaker encoder on 3 s of the
        slice and DNSMOS on one window: the only extra work, a fraction of a CPU-second. Returns
        the clock's facts: ``slice_seconds``, ``scoring_s`` (scoring one preview),
        ``voice_embed_s`` (the voice embedding still to do, once). With previews off only the
        length of the quality report's slice (``report_source``, the held-out segment) is told:
        the report's models are loaded at the export, not before the loop."""
        from persona.quality import DNSMOS, F0, SIMILARITY

        if not self.previews_enabled:
            if report_source is None or not Path(report_source).is_file():
                return {}
            return {"slice_seconds": round(float(sf.info(str(report_source)).duration), 2)}
        held, sr = self._held_out()
        voice = self._voice_seconds(VOICE_FILES, VOICE_SECONDS)
        excerpt = held[: int(CALIBRATION_SECONDS * sr)]
        scoring = embed = 0.0
        try:  # a metric never fails the training: one that cannot run costs nothing later either
            if SIMILARITY in self.metrics:
                from persona.quality import speaker

                speaker.load()
                if self._voice is None:  # the first call sets up more than the model
                    speaker.embed(excerpt[:sr], sr)
                per_second = _timed(speaker.embed, excerpt, sr) / max(1e-3, len(excerpt) / sr)
                scoring += per_second * len(held) / sr
                embed += per_second * voice if self._voice is None else 0.0
            if F0 in self.metrics:
                from persona.quality import source_contour

                started = time.monotonic()
                self._contour = source_contour(held, sr, self.f0_method)
                scoring += time.monotonic() - started
            if DNSMOS in self.metrics:
                from persona.quality import dnsmos

                scoring += dnsmos.window_cost() * dnsmos.windows(len(held) / sr)
        except (Cancelled, Superseded):
            raise
        except Exception as exc:  # noqa: BLE001
            log.info("a metric is unavailable: %s", exc)
        return {
            "slice_seconds": round(len(held) / sr, 2),
            "scoring_s": round(scoring, 3),
            "voice_embed_s": round(embed, 3),
        }

    def _voice_seconds(self, files: int, limit: float) -> float:
        """Seconds of training voice a voice embedding of the first ``files`` segments reads."""
        total = 0.0
        for p in self.training_wavs[:files]:
            try:
                total += sf.info(str(p)).duration
            except Exception:  # noqa: BLE001 - an estimate: a file it cannot read counts nothing
                continue
        return min(limit, total)

    def voice_embedding(self) -> np.ndarray | None:
        """The training voice (Resemblyzer, up to 60 s of the training segments), computed once."""
        if self._voice is None and self.training_wavs:
            from persona.quality import speaker

            wavs = [sf.read(str(p), dtype="float32")[0] for p in self.training_wavs[:VOICE_FILES]]
            self._voice = speaker.voice_embedding(
                wavs, self.cfg.data.sampling_rate, max_seconds=VOICE_SECONDS
            )
        return self._voice

    def _held_out(self) -> tuple[np.ndarray, int]:
        if self._held is None:
            audio, sr = sf.read(str(self.source), dtype="float32", always_2d=False)
            self._held = (audio if audio.ndim == 1 else audio.mean(axis=1), int(sr))
        return self._held

    def _preview(self, epoch: int, model: Path) -> dict[str, Any]:
        from persona.audio.io import save_audio
        from persona.quality import SIMILARITY, evaluate, source_contour
        from persona.rvc.convert import convert_audio
        from persona.rvc.options import ConversionOptions

        held, sr = self._held_out()
        converted, out_sr = convert_audio(
            self.settings, model, held, sr, ConversionOptions(f0_method=self.f0_method), index=self.index_path
        )
        target = self.exp / saves.preview_file(epoch)
        target.parent.mkdir(parents=True, exist_ok=True)
        marked = provenance.mark_audio(converted, out_sr, self.settings)  # previews are outputs too
        save_audio(target, np.clip(marked, -1.0, 1.0), out_sr, format="wav16")
        if SIMILARITY in self.metrics:
            self.voice_embedding()
        if self._contour is None:
            self._contour = source_contour(held, sr, self.f0_method)
        return evaluate(
            converted,
            out_sr,
            held,
            sr,
            voice=self._voice,
            conversion_f0=self.f0_method,
            metrics=self.metrics,
            source_f0=self._contour,
        )

    # -- the end ---------------------------------------------------------------------------------
    def final_model(self, target: Path) -> tuple[Path, int | None, dict | None]:
        """Copy the chosen save to ``target`` when the choice is a scored best save.

        Returns (path, exported epoch, choice); (target, None, choice) means: export the
        generator as it is now (the caller does), e.g. the last was asked for or nothing was scored.
        """
        choice = saves.choose(self.ledger["saves"], self.prefer)
        self.ledger["choice"] = choice
        if choice and choice["code"] in ("best_similarity", "best_guarded"):
            src = saves.kept_model(self.exp, self.ledger, choice["epoch"])
            shutil.copyfile(src, target)
            self.ledger["exported_epoch"] = choice["epoch"]
            saves.write(self.exp, self.ledger)
            return target, choice["epoch"], choice
        saves.write(self.exp, self.ledger)
        return target, None, choice

    def exported(self, epoch: int) -> None:
        self.ledger["exported_epoch"] = epoch
        saves.write(self.exp, self.ledger)

    def saved_metrics(self, epoch: int) -> dict[str, Any] | None:
        for s in self.ledger["saves"]:
            if s["epoch"] == epoch and s.get("preview"):
                return s.get("metrics")
        return None
