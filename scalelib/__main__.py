"""``python -m scalelib``: forecast benchmark scores from your own runs (see :mod:`scalelib.cli`)."""

import sys

from scalelib.cli import main

sys.exit(main())
