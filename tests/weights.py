"""`Weights`: an `Embedder` as a step's `load` reads it, a width and a fingerprint with no model behind it.

For loading steps whose vectors a test makes itself (synthetic clusters), or as
if built for another encoder (another width, other weights).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    dim: int
    fingerprint: str
