"""The commands' flags are written from the request types' specs: every parameter the API offers for
a cover or a training is a flag with the same default, and its help states the same range."""

from __future__ import annotations

import pytest

from persona.cli import build_parser
from persona.cover.request import COVER_PARAMS
from persona.params import Flag, Number
from persona.rvc.options import CONVERSION_PARAMS
from persona.training.request import TRAIN_PARAMS

PARSER = build_parser()
BASE = {
    "convert": ["convert", "--model", "m", "--input", "a.wav", "--output", "b.wav"],
    "cover": ["cover", "--model", "m", "--song", "a.wav"],
    "train": ["train", "n", "a.wav"],
}
# Cover parameters the CLI spells otherwise: --pitch auto, and --format taken from --output.
NOT_FLAGS = {"cover": {"pitch_auto", "format"}, "train": set(), "convert": set()}
SPECS = {"convert": CONVERSION_PARAMS, "cover": COVER_PARAMS, "train": TRAIN_PARAMS}


@pytest.mark.parametrize("command", ["convert", "cover", "train"])
def test_every_api_parameter_is_a_flag_with_the_apis_default(command):
    args = vars(PARSER.parse_args(BASE[command]))
    for name, spec in SPECS[command].items():
        if name in NOT_FLAGS[command]:
            continue
        expected = None if (command, name) == ("train", "epochs") else spec.default  # --resume: saved
        assert args[name] == expected, f"persona {command} --{name.replace('_', '-')}"


@pytest.mark.parametrize("command", ["convert", "cover", "train"])
def test_the_help_states_the_apis_ranges(command):
    sub = PARSER._subparsers._group_actions[0].choices[command]
    helps = {a.dest: a.help or "" for a in sub._actions}
    for name, spec in SPECS[command].items():
        if isinstance(spec, Number) and name not in ("vocal_gain", "instrumental_gain"):
            assert f"{spec.min:g}..{spec.max:g}" in helps[name], name
        if not isinstance(spec, Flag) and name in helps and name not in ("epochs", *NOT_FLAGS[command]):
            default = f"{spec.default:g}" if isinstance(spec.default, float) else str(spec.default)
            assert f"(default {default})" in helps[name], name
