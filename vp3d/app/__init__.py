"""The vp3d web app: state and handlers (``core``), layout (``ui``), entry point (``main``).

Nothing here is imported by the engine; the engine never imports this package.
"""

from vp3d.app.core import VertebroplastyApp

__all__ = ["VertebroplastyApp"]
