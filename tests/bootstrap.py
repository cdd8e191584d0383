"""Set the environment before Django reads its settings (loaded with ``-p tests.bootstrap``)."""

from __future__ import annotations

import os
import tempfile

# Before Django reads its settings: tests never touch the developer's ./var.
os.environ.setdefault("ACCORD_DATA_DIR", tempfile.mkdtemp(prefix="accord-test-"))
# WhiteNoise warns (an error under pytest) when STATIC_ROOT is missing.
os.makedirs(os.path.join(os.environ["ACCORD_DATA_DIR"], "static"), exist_ok=True)
os.environ.setdefault("ACCORD_SECRET_KEY", "test-only-secret-key-not-for-production")

IN_CI = os.environ.get("CI", "").lower() == "true"
