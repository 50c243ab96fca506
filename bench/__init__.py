"""Benchmarks: speed and memory are measured here, never asserted in tests (`make bench`).

Importing this package puts the shared layer (layers/onair) on sys.path, as Lambda's /opt/python would.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER = REPO_ROOT / "layers" / "onair"
if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))
