"""Training examples, batches and the length-bucketed sampler, as RVC's `train/data_utils.py`.

One example (``TextAudioLoaderMultiNSFsid`` semantics): HuBERT features repeated x2 along time
(20 ms -> 10 ms frames), capped at 900 frames together with coarse and fine f0; the linear
spectrogram of the ground-truth wave (cached beside it as ``.spec.pt``); all trimmed to the
shorter of features and spectrogram, the wave to ``frames * hop``. Batches are zero padded and
sorted by spectrogram length, longest first. The sampler groups examples into length buckets
(100..900, with RVC's length estimate from the float32 file size) and pads every bucket to a
multiple of the batch size by repeating examples; the shuffle is seeded by the epoch.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from persona.training.config import DataConfig
from persona.training.mel import spectrogram

MAX_FRAMES = 900
BOUNDARIES = (100, 200, 300, 400, 500, 600, 700, 800, 900)


@dataclasses.dataclass(frozen=True)
class Example:
    wav: Path  # ground truth at the model rate, float32
    feature: Path  # (frames, 768) float32 .npy at 50 Hz
    pitch: Path  # coarse f0, int 1..255, 100 Hz
    pitchf: Path  # f0 in Hz, 100 Hz
    sid: int = 0


def write_filelist(path: Path, examples: Sequence[Example]) -> None:
    """RVC's ``filelist.txt``: ``wav|feature|pitch|pitchf|sid`` per line."""
    lines = [f"{e.wav}|{e.feature}|{e.pitch}|{e.pitchf}|{e.sid}" for e in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_filelist(path: Path) -> list[Example]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            w, f, p, pf, sid = line.split("|")
            out.append(Example(Path(w), Path(f), Path(p), Path(pf), int(sid)))
    return out


class VoiceDataset(torch.utils.data.Dataset):
    def __init__(self, examples: Sequence[Example], data: DataConfig) -> None:
        self.examples = list(examples)
        self.data = data
        # RVC's estimate of spectrogram length: file bytes // (3 * hop).
        self.lengths = [os.path.getsize(e.wav) // (3 * data.hop_length) for e in self.examples]

    def __len__(self) -> int:
        return len(self.examples)

    def _spec(self, wav: torch.Tensor, path: Path) -> torch.Tensor:
        cache = path.with_suffix(".spec.pt")
        if cache.exists():
            try:
                return torch.load(cache, weights_only=True)
            except Exception:  # a torn cache file is simply rebuilt
                pass
        d = self.data
        spec = spectrogram(wav, d.filter_length, d.hop_length, d.win_length).squeeze(0)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        torch.save(spec, tmp)
        os.replace(tmp, cache)
        return spec

    def __getitem__(self, index: int):
        e = self.examples[index]
        phone = np.repeat(np.load(e.feature), 2, axis=0)
        pitch = np.load(e.pitch)
        pitchf = np.load(e.pitchf)
        n = min(phone.shape[0], MAX_FRAMES)
        phone_t = torch.from_numpy(np.ascontiguousarray(phone[:n], dtype=np.float32))
        pitch_t = torch.from_numpy(np.asarray(pitch[:n], dtype=np.int64))
        pitchf_t = torch.from_numpy(np.asarray(pitchf[:n], dtype=np.float32))
        audio, sr = sf.read(e.wav, dtype="float32")
        if sr != self.data.sampling_rate:
            raise ValueError(f"{e.wav}: {sr} Hz, expected {self.data.sampling_rate}")
        wav = torch.from_numpy(audio).unsqueeze(0)
        spec = self._spec(wav, e.wav)
        frames = min(phone_t.shape[0], spec.shape[-1], pitch_t.shape[0], pitchf_t.shape[0])
        spec = spec[:, :frames]
        wav = wav[:, : frames * self.data.hop_length]
        return spec, wav, phone_t[:frames], pitch_t[:frames], pitchf_t[:frames], torch.tensor(e.sid)


def collate(batch):
    """Zero-pad a list of examples; rows sorted by spectrogram length, longest first."""
    order = sorted(range(len(batch)), key=lambda i: batch[i][0].shape[1], reverse=True)
    b = len(batch)
    max_spec = max(x[0].shape[1] for x in batch)
    max_wave = max(x[1].shape[1] for x in batch)
    max_phone = max(x[2].shape[0] for x in batch)
    spec = torch.zeros(b, batch[0][0].shape[0], max_spec)
    wave = torch.zeros(b, 1, max_wave)
    phone = torch.zeros(b, max_phone, batch[0][2].shape[1])
    pitch = torch.zeros(b, max_phone, dtype=torch.long)
    pitchf = torch.zeros(b, max_phone)
    spec_len = torch.zeros(b, dtype=torch.long)
    wave_len = torch.zeros(b, dtype=torch.long)
    phone_len = torch.zeros(b, dtype=torch.long)
    sid = torch.zeros(b, dtype=torch.long)
    for row, i in enumerate(order):
        s, w, ph, p, pf, d = batch[i]
        spec[row, :, : s.shape[1]] = s
        spec_len[row] = s.shape[1]
        wave[row, :, : w.shape[1]] = w
        wave_len[row] = w.shape[1]
        phone[row, : ph.shape[0]] = ph
        phone_len[row] = ph.shape[0]
        pitch[row, : p.shape[0]] = p
        pitchf[row, : pf.shape[0]] = pf
        sid[row] = d
    return phone, phone_len, pitch, pitchf, spec, spec_len, wave, wave_len, sid


class BucketBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batches of similar length (single process: RVC's DistributedBucketSampler with 1 replica)."""

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        boundaries: Sequence[int] = BOUNDARIES,
        shuffle: bool = True,
    ) -> None:
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.epoch = 0
        bounds = list(boundaries)
        buckets: list[list[int]] = [[] for _ in range(len(bounds) - 1)]
        for i, length in enumerate(lengths):
            k = bisect.bisect_left(bounds, length) - 1  # bounds[k] < length <= bounds[k + 1]
            if 0 <= k < len(buckets):
                buckets[k].append(i)
        self.buckets = [b for b in buckets if b]
        self.sizes = [len(b) + (-len(b)) % batch_size for b in self.buckets]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        g = torch.Generator()
        g.manual_seed(self.epoch)
        batches = []
        for bucket, size in zip(self.buckets, self.sizes, strict=True):
            ids = (
                torch.randperm(len(bucket), generator=g).tolist()
                if self.shuffle
                else list(range(len(bucket)))
            )
            rem = size - len(bucket)
            ids = ids + ids * (rem // len(bucket)) + ids[: rem % len(bucket)]
            for j in range(len(ids) // self.batch_size):
                batches.append([bucket[k] for k in ids[j * self.batch_size : (j + 1) * self.batch_size]])
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
        return iter(batches)

    def __len__(self) -> int:
        return sum(self.sizes) // self.batch_size
