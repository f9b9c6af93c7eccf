"""Register the separation models' files in the assets manifest (``persona.assets.manifest``).

Each model is two single-file assets under ``separation/`` (weights + YAML config), group
"separation". The default model's files are in the default download set. Importing this module
registers them (idempotent), so ``persona assets status|download|import`` know them.
"""

from __future__ import annotations

from persona.separation.models import DEFAULT_MODEL, MODELS


def register_assets() -> None:
    try:
        from persona.assets import manifest
    except ImportError:  # pragma: no cover - the assets package is part of Persona
        return
    for model in MODELS.values():
        for f in model.assets:
            if f.name in manifest.MANIFEST:
                continue
            kind = "weights" if f is model.weights else "config (YAML)"
            note = f"; {f.note}" if f.note else ""
            manifest.register(
                manifest.Asset(
                    name=f.name,
                    files=(manifest.AssetFile(f.name, f.url, f.size, f.sha256),),
                    description=f"{model.title}: {kind}. {model.figures}{note}",
                    group="separation",
                    default=model.name == DEFAULT_MODEL,
                    alternates=(f.name, f.name.split("/", 1)[1], f"pymss_weights/{f.name.split('/', 1)[1]}"),
                )
            )


register_assets()
