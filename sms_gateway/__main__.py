"""``python -m sms_gateway``: see :mod:`sms_gateway.cli`."""

import sys

from sms_gateway.cli import main

sys.exit(main())
