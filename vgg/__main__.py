"""``python -m vgg``: see vgg/cli."""

import sys

from vgg.cli import main

sys.exit(main())
