"""One module per client family, each owning its request models (with its original's defaults),
its response models, the one converter `Document -> response` and its error body.

Routes (api/routes_*.py) are thin adapters over these; the service and engine know nothing of them.
"""

from __future__ import annotations

from . import export, hub, jobs, paddlex, rapidocr, seed
from .base import Contract

CONTRACTS: dict[str, Contract] = {c.name: c for c in (paddlex.CONTRACT, rapidocr.CONTRACT, hub.CONTRACT,
                                                      seed.CONTRACT, jobs.CONTRACT, export.CONTRACT)}

__all__ = ["CONTRACTS", "Contract"]
