"""``python -m aperture_proxy`` runs the command line."""

import sys

from aperture_proxy.cli import main

sys.exit(main())
