"""Where vp3d writes what it generates: inside a checkout, its own folders; for an installed
package, the user's cache folder (``$XDG_CACHE_HOME/vp3d`` or ``~/.cache/vp3d``)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The source checkout holding this package, or None for an installed package.
CHECKOUT_DIR: Path | None = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "pyproject.toml").exists() else None


def generated_dir(checkout_name: str, cache_name: str) -> Path:
    """``checkout_name`` in the checkout, else ``cache_name`` in the user's vp3d cache."""
    if CHECKOUT_DIR is not None:
        return CHECKOUT_DIR / checkout_name
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vp3d" / cache_name
