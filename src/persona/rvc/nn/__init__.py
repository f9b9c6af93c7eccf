"""Building blocks of RVC's synthesizer and discriminators (VITS + NSF-HiFiGAN).

Each submodule has one job: ``weightnorm`` (weight-normalised convolutions with RVC's
``weight_g``/``weight_v`` parameter names), ``commons`` (masks, slicing, RNG helpers),
``attentions`` (the relative-position transformer of the text encoder), ``modules`` (WaveNet,
coupling flows, HiFi-GAN residual blocks), ``generators`` (HiFi-GAN and its NSF variant) and
``discriminators``. Parameter names and registration order follow RVC's
``infer/module/*.py`` so RVC checkpoints (and their optimizer states) load unchanged.
"""
