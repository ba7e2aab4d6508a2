"""vp3d: a browser-based 3D teaching app for vertebroplasty, built on one spine model."""

__version__ = "0.1.0"
