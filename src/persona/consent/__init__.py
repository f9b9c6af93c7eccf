"""The consent gate: a person reads a sentence made for this one training, live, in the voice
being trained. ``challenge`` makes and keeps the sentences, ``speech`` checks that a clip is
speech (torch-free, in the web process), ``speaker`` that it is the training recordings' voice
(in the worker), ``record`` keeps what was consented with the model."""
