"""Import paths for the tests: the collection as `ansible_collections.promfleet.federation`, and tests/support."""

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent
_REPO = _TESTS.parent
for path in (_REPO / "collections", _TESTS / "support"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
