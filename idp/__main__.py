"""``python -m idp`` runs the ``portcullis`` command."""

import sys

from idp.cli import main

sys.exit(main())
