"""``python -m nnp_ref.cli``: the same as ``nnp-ref``."""

import sys

from nnp_ref.cli import main

sys.exit(main())
