"""How big the long loops are: bounded in `make test`, full under `make reliability`.

`DUBAN_RELIABILITY=full` (what `make reliability` sets) runs every long loop at its full size;
without it each runs a bounded form that still exercises what it is there for. The same switch
as tests/reliability/conftest.py's, for the long tests outside tests/reliability (the API fuzz).
"""

from __future__ import annotations

import os

FULL = os.environ.get("DUBAN_RELIABILITY", "").lower() == "full"


def scale(bounded: int, full: int) -> int:
    """How big a loop is: small in the default run, big with DUBAN_RELIABILITY=full."""
    return full if FULL else bounded
