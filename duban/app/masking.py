"""Mobile numbers masked for the entry points: the domain's one masking rule (`domain.masking`).

The web board (every value it shows) and any other reader that must not see a liaison's
number use `mask_mobiles` from here, so that they import the application layer only.
"""

from __future__ import annotations

from domain.masking import mask_mobiles

__all__ = ["mask_mobiles"]
