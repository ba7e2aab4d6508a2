"""Surfaces of the model for the page and for pictures: the generated mesh cache (``cache``)
and offscreen renders (``render``)."""
