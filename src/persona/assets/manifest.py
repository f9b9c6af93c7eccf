"""The manifest of pretrained weights Persona needs: where each comes from and how to check it.

Names follow API.md's assets folder (``hubert_base``, ``hubert_base.pt``, ``rmvpe.pt``, ``fcpe.pt``,
``pretrained_v2/f0G40k.pth``, ``separation/<file>``): every entry is plain data in this module,
so whoever reads ``MANIFEST`` sees every asset, whatever else was imported.

Sources: RVC's own HuggingFace repository ``lj1995/VoiceConversionWebUI`` (the files RVC's README
tells users to download) and, for ``fcpe.pt``, Applio's ``IAHispano/Applio`` repository.
Sizes and sha256 were taken from public pins of these exact files (several independent projects
pin the same values; the no-f0 ``G*k``/``D*k`` hashes come from one Nix expression pinned at
revision e6d0c1a17da07c33557852f9dfa2bd44cc75737d; their sizes were not published, so
``size=None``). Where a value is unknown it is ``None``: verification then records the hash seen
on first download and checks later copies against it. Nothing here is guessed.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable

RVC_HF = "https://huggingface.co/lj1995/VoiceConversionWebUI/resolve/main"
APPLIO_HF = "https://huggingface.co/IAHispano/Applio/resolve/main/Resources"


@dataclasses.dataclass(frozen=True)
class AssetFile:
    """One file of an asset. ``path`` is relative to the assets folder (forward slashes)."""

    path: str
    url: str
    size: int | None = None
    sha256: str | None = None
    optional: bool = False  # not needed for the asset to count as present (e.g. preprocessor_config)


@dataclasses.dataclass(frozen=True)
class Asset:
    """A named piece of pretrained weights: one file, or a folder of several files.

    ``alternates`` lists other relative paths the same thing has in RVC's or Applio's ``assets/``
    folders (for ``import_dir``); for a folder asset they are folder paths. ``present_when``
    names, for a folder, groups of file names of which at least one each must exist (so a folder
    holding ``model.safetensors`` instead of ``pytorch_model.bin`` still counts).
    """

    name: str
    files: tuple[AssetFile, ...]
    description: str
    group: str  # "content", "f0", "pretrained", "separation", ...
    default: bool = False  # fetched by ``persona assets download`` without names
    alternates: tuple[str, ...] = ()
    present_when: tuple[tuple[str, ...], ...] = ()

    @property
    def is_folder(self) -> bool:
        return len(self.files) > 1 or self.files[0].path != self.name

    @property
    def size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    def relative(self, file: AssetFile) -> str:
        """The file's path inside the asset (its name, for a folder asset)."""
        return file.path[len(self.name) + 1 :] if self.is_folder else file.path


MANIFEST: dict[str, Asset] = {}


def register(asset: Asset, *, replace: bool = False) -> Asset:
    """Add ``asset`` to the manifest (the entries below; tests add their own)."""
    if asset.name in MANIFEST and not replace:
        raise ValueError(f"asset {asset.name!r} is already registered")
    for f in asset.files:
        if asset.is_folder and not f.path.startswith(asset.name + "/"):
            raise ValueError(f"{f.path} is not inside the folder asset {asset.name}")
        if f.sha256 is not None and len(f.sha256) != 64:
            raise ValueError(f"{f.path}: sha256 must be 64 hex digits")
    MANIFEST[asset.name] = asset
    return asset


def with_pins(manifest: dict[str, Asset], pins: dict[str, list[dict]]) -> dict[str, Asset]:
    """A copy of ``manifest`` whose named assets have the files (path, size, sha256) in ``pins``.

    A pinned file keeps the manifest's URL for the same path, else lies beside the asset's first
    file (same folder on the same host). Unknown names raise KeyError.
    """
    out = dict(manifest)
    for name, files in pins.items():
        asset = manifest[name]
        urls = {f.path: f.url for f in asset.files}
        folder = asset.files[0].url.rsplit("/", 1)[0]
        first_dir = asset.files[0].path.rsplit("/", 1)[0] if "/" in asset.files[0].path else ""
        new = []
        for f in files:
            path = str(f["path"])
            rel = path[len(first_dir) + 1 :] if first_dir and path.startswith(first_dir + "/") else path
            new.append(AssetFile(path, urls.get(path) or f"{folder}/{rel}", f.get("size"), f.get("sha256")))
        out[name] = dataclasses.replace(asset, files=tuple(new), present_when=())
    return out


def get(name: str) -> Asset | None:
    return MANIFEST.get(name)


def select(patterns: Iterable[str] | None, manifest: dict[str, Asset] | None = None) -> list[Asset]:
    """Assets matching names or shell patterns (``pretrained_v2/*``); None = the default set.

    Raises KeyError naming the first pattern that matches nothing.
    """
    manifest = MANIFEST if manifest is None else manifest
    if patterns is None:
        return [a for a in manifest.values() if a.default]
    chosen: dict[str, Asset] = {}
    for pattern in patterns:
        if pattern in ("all", "*"):
            hits = list(manifest)
        elif pattern in manifest:
            hits = [pattern]
        else:
            hits = [n for n in manifest if fnmatch.fnmatchcase(n, pattern)]
            hits += [n for n, a in manifest.items() if a.group == pattern]
        if not hits:
            raise KeyError(pattern)
        for n in hits:
            chosen[n] = manifest[n]
    return list(chosen.values())


def _single(
    name: str,
    url: str,
    size: int | None,
    sha256: str | None,
    description: str,
    group: str,
    *,
    default: bool = False,
    alternates: tuple[str, ...] = (),
) -> Asset:
    return Asset(
        name=name,
        files=(AssetFile(name, url, size, sha256),),
        description=description,
        group=group,
        default=default,
        alternates=alternates,
    )


# --- content encoder -------------------------------------------------------------------------
register(
    Asset(
        name="hubert_base",
        files=(
            AssetFile(
                "hubert_base/config.json",
                f"{RVC_HF}/hubert_base/config.json",
                1492,
                "0346950779dfb7f9316fa74ed846e2b8a22a08eedfdc5387b73f327cb1a4a7cf",
            ),
            AssetFile(
                "hubert_base/preprocessor_config.json",
                f"{RVC_HF}/hubert_base/preprocessor_config.json",
                225,
                "7c1976a680fb7acc757cd36fb08eef878fa36c70b4c9d2d595df9c608bbbbf0e",
                optional=True,
            ),
            AssetFile(
                "hubert_base/pytorch_model.bin",
                f"{RVC_HF}/hubert_base/pytorch_model.bin",
                189206711,
                "cc8c20f4b90a520757260197a3ff2505705a7adbd20ad9eeaa4e1a9b38442ef5",
            ),
        ),
        description="HuBERT/ContentVec base as a transformers folder (with final_proj), as current RVC ships it",
        group="content",
        default=True,
        alternates=("hubert_base", "embedders/hubert_base", "rvc/models/embedders/hubert_base"),
        present_when=(("config.json",), ("pytorch_model.bin", "model.safetensors")),
    )
)
register(
    _single(
        "hubert_base.pt",
        f"{RVC_HF}/hubert_base.pt",
        189507909,
        "f54b40fd2802423a5643779c4861af1e9ee9c1564dc9d32f54f20b5ffba7db96",
        "HuBERT/ContentVec base, the older fairseq checkpoint (used when hubert_base/ is absent)",
        "content",
        alternates=("hubert/hubert_base.pt", "hubert_base.pt"),
    )
)

# Other content encoders Applio models may name (``embedder_model``; see persona.rvc.embedders):
# transformers HuBERT folders from Applio's repository. No sizes or hashes are published for
# them, so the first download's hash is pinned (as for the separation models).
_EMBEDDERS = (
    ("spin", "spin", "SPIN (speaker-invariant clustering) HuBERT, as Applio ships it"),
    ("spin-v2", "spin-v2", "SPIN v2 HuBERT, as Applio ships it"),
    (
        "chinese-hubert-base",
        "chinese_hubert_base",
        "Chinese HuBERT base (TencentGameMate), as Applio ships it",
    ),
    ("japanese-hubert-base", "japanese_hubert_base", "Japanese HuBERT base (rinna), as Applio ships it"),
    ("korean-hubert-base", "korean_hubert_base", "Korean HuBERT base (team-lucid), as Applio ships it"),
)
for _name, _folder, _what in _EMBEDDERS:
    register(
        Asset(
            name=f"embedders/{_name}",
            files=(
                AssetFile(f"embedders/{_name}/config.json", f"{APPLIO_HF}/embedders/{_folder}/config.json"),
                AssetFile(
                    f"embedders/{_name}/pytorch_model.bin",
                    f"{APPLIO_HF}/embedders/{_folder}/pytorch_model.bin",
                ),
            ),
            description=f"{_what}: the content encoder of models trained with it",
            group="embedders",
            alternates=(f"embedders/{_folder}", f"rvc/models/embedders/{_folder}"),
            present_when=(("config.json",), ("pytorch_model.bin", "model.safetensors")),
        )
    )
del _name, _folder, _what

# --- pitch ------------------------------------------------------------------------------------
register(
    _single(
        "rmvpe.pt",
        f"{RVC_HF}/rmvpe.pt",
        181184272,
        "6d62215f4306e3ca278246188607209f09af3dc77ed4232efdd069798c4ec193",
        "RMVPE pitch estimator weights, as RVC ships them",
        "f0",
        default=True,
        alternates=("rmvpe/rmvpe.pt", "predictors/rmvpe.pt", "rvc/models/predictors/rmvpe.pt"),
    )
)
register(
    _single(
        "fcpe.pt",
        f"{APPLIO_HF}/predictors/fcpe.pt",
        43362881,
        "8544427eebbf2baef6213cc9a05057e46961617a8e5bd96975a0d42da6a09059",
        "FCPE pitch estimator weights, as Applio ships them",
        "f0",
        alternates=("fcpe/fcpe.pt", "predictors/fcpe.pt", "rvc/models/predictors/fcpe.pt"),
    )
)

# --- pretrained v2 generator / discriminator ---------------------------------------------------
# (file, size, sha256); f0 files have NSF pitch input, the others are for no-f0 models.
_PRETRAINED_V2 = (
    ("f0G32k.pth", 73950049, "2332611297b8d88c7436de8f17ef5f07a2119353e962cd93cda5806d59a1133d"),
    ("f0D32k.pth", 142875703, "bd7134e7793674c85474d5145d2d982e3c5d8124fc7bb6c20f710ed65808fa8a"),
    ("f0G40k.pth", 73106273, "3b2c44035e782c4b14ddc0bede9e2f4a724d025cd073f736d4f43708453adfcb"),
    ("f0D40k.pth", 142875703, "6b6ab091e70801b28e3f41f335f2fc5f3f35c75b39ae2628d419644ec2b0fa09"),
    ("f0G48k.pth", 75465569, "b5d51f589cc3632d4eae36a315b4179397695042edc01d15312e1bddc2b764a4"),
    ("f0D48k.pth", 142875703, "2269b73c7a4cf34da09aea99274dabf99b2ddb8a42cbfb065fb3c0aa9a2fc748"),
    # No-f0 files: sha256 from one public pin only; sizes unpublished (checked by hash alone).
    ("G32k.pth", None, "869b26a47f75168d6126f64ac39e6de5247017a8658cfd68aca600f7323efb9f"),
    ("D32k.pth", None, "d8043378cc6619083d385f5a045de09b83fb3bf8de45c433ca863b71723ac3ca"),
    ("G40k.pth", None, "a3843da7fde33db1dab176146c70d6c2df06eafe9457f4e3aa10024e9c6a4b69"),
    ("D40k.pth", None, "471378e894e7191f89a94eda8288c5947b16bbe0b10c3f1f17efdb7a1d998242"),
    ("G48k.pth", None, "2e2b1581a436d07a76b10b9d38765f64aa02836dc65c7dee1ce4140c11ea158b"),
    ("D48k.pth", None, "db01094a93c09868a278e03dafe8bb781bfcc1a5ba8df168c948bf9168c84d82"),
)
for _file, _size, _sha in _PRETRAINED_V2:
    _kind = "generator" if "G" in _file else "discriminator"
    _rate = _file[-8:-4]
    _f0 = "with f0 (NSF)" if _file.startswith("f0") else "without f0"
    register(
        _single(
            f"pretrained_v2/{_file}",
            f"{RVC_HF}/pretrained_v2/{_file}",
            _size,
            _sha,
            f"RVC v2 pretrained {_kind}, {_rate}, {_f0}",
            "pretrained",
            default=_file in ("f0G40k.pth", "f0D40k.pth"),  # the training default
            alternates=(
                f"pretrained_v2/{_file}",
                f"pretraineds/pretrained_v2/{_file}",
                f"pretraineds/hifi-gan/{_file}",
                f"rvc/models/pretraineds/pretrained_v2/{_file}",
                f"rvc/models/pretraineds/hifi-gan/{_file}",
            ),
        )
    )
del _file, _size, _sha, _kind, _rate, _f0

# --- separation -------------------------------------------------------------------------------
# Each separation model (``persona.separation.models`` names its two files by these asset names)
# is its weights plus the YAML configuration they were trained with (pymss reads both). URLs are
# the publishers' own where known; the configuration files come from the pymss model mirror
# (``huggingface.co/baicai1145/pymss``), which keeps each config beside its weights under the
# same relative path. Figures: the vocal SDR as published by the model's author or by ZFTurbo's
# Music-Source-Separation-Training table (MVSEP Multisong dataset), see README.
PYMSS_MIRROR = "https://huggingface.co/baicai1145/pymss/resolve/main"
_NO_SHA = "no published sha256 found; verified by size only"
_SEPARATION = (
    # (title, figures, [(file, url, size, note)] weights then config, in the default download set)
    (
        "BS-RoFormer vocals (viperx, ep 317)",
        "vocals SDR 12.9755 dB (its validation score, in the file name); 10.87 dB on MVSEP Multisong",
        (
            (
                "model_bs_roformer_ep_317_sdr_12.9755.ckpt",
                "https://github.com/TRvlvr/model_repo/releases/download/all_public_uvr_models/"
                "model_bs_roformer_ep_317_sdr_12.9755.ckpt",
                639331213,
                _NO_SHA,
            ),
            (
                "model_bs_roformer_ep_317_sdr_12.9755.yaml",
                f"{PYMSS_MIRROR}/vocal/vocal_extraction/model_bs_roformer_ep_317_sdr_12.9755.yaml",
                None,
                _NO_SHA,
            ),
        ),
        True,
    ),
    (
        "HTDemucs v4 fine-tuned vocals (Meta)",
        "vocals SDR 8.38 dB on MVSEP Multisong (htdemucs 4-stem: 8.24 dB)",
        (
            (
                "04573f0d-f3cf25b2.th",
                "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/04573f0d-f3cf25b2.th",
                84141271,
                "Demucs names files <signature>-<first 8 hex of sha256>: sha256 starts with f3cf25b2",
            ),
            (
                "04573f0d-f3cf25b2.yaml",
                f"{PYMSS_MIRROR}/vocal/vocal_extraction/HTDemucs4_FT_vocals_official.yaml",
                None,
                _NO_SHA,
            ),
        ),
        False,
    ),
    (
        "Mel-Band-RoFormer karaoke (aufr33 & viperx): lead / backing vocals",
        "SDR 10.1956 dB (its validation score, in the file name)",
        (
            (
                "model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.ckpt",
                f"{PYMSS_MIRROR}/karaoke/model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.ckpt",
                913096801,
                _NO_SHA,
            ),
            (
                "model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.yaml",
                f"{PYMSS_MIRROR}/karaoke/model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.yaml",
                None,
                _NO_SHA,
            ),
        ),
        False,
    ),
    (
        "Mel-Band-RoFormer de-reverb, less aggressive (anvuew)",
        "SDR 18.8050 dB (its validation score, in the file name)",
        (
            (
                "dereverb_mel_band_roformer_less_aggressive_anvuew_sdr_18.8050.ckpt",
                "https://huggingface.co/anvuew/dereverb_mel_band_roformer/resolve/main/"
                "dereverb_mel_band_roformer_less_aggressive_anvuew_sdr_18.8050.ckpt",
                913107578,
                _NO_SHA,
            ),
            (
                "dereverb_mel_band_roformer_anvuew.yaml",
                "https://huggingface.co/anvuew/dereverb_mel_band_roformer/resolve/main/"
                "dereverb_mel_band_roformer_anvuew.yaml",
                None,
                _NO_SHA,
            ),
        ),
        False,
    ),
)
for _title, _figures, _files, _default in _SEPARATION:
    for _kind, (_file, _url, _size, _note) in zip(("weights", "config (YAML)"), _files, strict=True):
        register(
            _single(
                f"separation/{_file}",
                _url,
                _size,
                None,
                f"{_title}: {_kind}. {_figures}; {_note}",
                "separation",
                default=_default,
                alternates=(f"separation/{_file}", _file, f"pymss_weights/{_file}"),
            )
        )
del _title, _figures, _files, _default, _kind, _file, _url, _size, _note
