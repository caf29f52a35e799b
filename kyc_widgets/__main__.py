"""``python -m kyc_widgets``: the same as the ``kyc-widgets`` command."""

import sys

from kyc_widgets.cli.main import main

sys.exit(main())
