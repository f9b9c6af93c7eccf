"""``python -m persona``: the same command line as the ``persona`` script."""

import sys

from persona.cli import main

if __name__ == "__main__":
    sys.exit(main())
