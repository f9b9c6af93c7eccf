"""Cut a recording on its silences, as RVC's `train/dataset/slicer2.py` does.

Frame RMS (librosa-style centred frames, constant padding) is compared with a dB threshold; a
silence longer than ``min_interval`` ms splits the clip once the clip is at least ``min_length``
ms long, keeping at most ``max_sil_kept`` ms of silence on each side and cutting at the quietest
frame. RVC's training preprocess uses threshold -42 dB, min_length 1500, min_interval 400,
hop 15 ms and max_sil_kept 500; those are the defaults here.
"""

from __future__ import annotations

import numpy as np


def frame_rms(y: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """RMS of centred frames (zero padded by half a frame on both sides), one value per hop."""
    half = frame_length // 2
    padded = np.pad(y.astype(np.float64, copy=False), (half, half))
    n_frames = 1 + (len(padded) - frame_length) // hop_length
    if n_frames <= 0:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop_length][:n_frames]
    return np.sqrt(np.mean(frames**2, axis=-1))


class Slicer:
    def __init__(
        self,
        sr: int,
        threshold_db: float = -42.0,
        min_length_ms: int = 1500,
        min_interval_ms: int = 400,
        hop_ms: int = 15,
        max_sil_kept_ms: int = 500,
    ) -> None:
        if not min_length_ms >= min_interval_ms >= hop_ms:
            raise ValueError("need min_length >= min_interval >= hop_size")
        if not max_sil_kept_ms >= hop_ms:
            raise ValueError("need max_sil_kept >= hop_size")
        interval = sr * min_interval_ms / 1000
        self.threshold = 10 ** (threshold_db / 20.0)
        self.hop = round(sr * hop_ms / 1000)
        self.win = min(round(interval), 4 * self.hop)
        self.min_length = round(sr * min_length_ms / 1000 / self.hop)
        self.min_interval = round(interval / self.hop)
        self.max_sil_kept = round(sr * max_sil_kept_ms / 1000 / self.hop)

    def _cut(self, rms: np.ndarray) -> list[tuple[int, int]]:
        """Silent (begin, end) frame ranges to drop, in order."""
        tags: list[tuple[int, int]] = []
        sil_start: int | None = None
        clip_start = 0
        keep = self.max_sil_kept

        def argmin(lo: int, hi: int) -> int:
            return int(rms[lo:hi].argmin()) + lo

        for i, value in enumerate(rms):
            if value < self.threshold:
                if sil_start is None:
                    sil_start = i
                continue
            if sil_start is None:
                continue
            leading = sil_start == 0 and i > keep
            middle = i - sil_start >= self.min_interval and i - clip_start >= self.min_length
            if not leading and not middle:
                sil_start = None
                continue
            if i - sil_start <= keep:
                pos = argmin(sil_start, i + 1)
                tags.append((0, pos) if sil_start == 0 else (pos, pos))
                clip_start = pos
            elif i - sil_start <= keep * 2:
                pos = argmin(i - keep, sil_start + keep + 1)
                pos_l = argmin(sil_start, sil_start + keep + 1)
                pos_r = argmin(i - keep, i + 1)
                if sil_start == 0:
                    tags.append((0, pos_r))
                    clip_start = pos_r
                else:
                    tags.append((min(pos_l, pos), max(pos_r, pos)))
                    clip_start = max(pos_r, pos)
            else:
                pos_l = argmin(sil_start, sil_start + keep + 1)
                pos_r = argmin(i - keep, i + 1)
                tags.append((0, pos_r) if sil_start == 0 else (pos_l, pos_r))
                clip_start = pos_r
            sil_start = None
        total = len(rms)
        if sil_start is not None and total - sil_start >= self.min_interval:
            end = min(total, sil_start + keep)
            tags.append((argmin(sil_start, end + 1), total + 1))
        return tags

    def slice(self, wave: np.ndarray) -> list[np.ndarray]:
        """Non-silent chunks of a mono ``wave`` (the whole wave when nothing is cut)."""
        if len(wave) <= self.min_length:
            return [wave]
        rms = frame_rms(wave, self.win, self.hop)
        tags = self._cut(rms)
        if not tags:
            return [wave]
        total = len(rms)
        bounds: list[tuple[int, int]] = []
        if tags[0][0] > 0:
            bounds.append((0, tags[0][0]))
        bounds += [(tags[k][1], tags[k + 1][0]) for k in range(len(tags) - 1)]
        if tags[-1][1] < total:
            bounds.append((tags[-1][1], total))
        return [wave[b * self.hop : min(len(wave), e * self.hop)] for b, e in bounds]
