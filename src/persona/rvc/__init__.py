"""RVC-compatible voice conversion engine: synthesizer, model files, features, f0, index, pipeline.

``persona.rvc.models`` holds RVC's synthesizers and discriminators (RVC's class and parameter
names). Model files, split as demucs splits ``pretrained``/``states``/``apply``: ``pth`` (the one
``torch.load``), ``plain_data`` (bounds on untrusted metadata), ``model_config`` (RVC's 18-entry
config), ``voice_model`` (check and load voice models), ``export`` (RVC's small-model format),
``train_checkpoint`` (G/D training checkpoints and pretrained bases).
"""
