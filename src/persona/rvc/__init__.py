"""RVC-compatible voice conversion engine: synthesizer, model files, features, f0, index, pipeline.

``persona.rvc.models`` holds RVC's synthesizers and discriminators (RVC's class and parameter
names); ``persona.rvc.checkpoint`` reads and writes RVC's model files safely.
"""
