"""Geometry under the anatomy: signed-distance primitives and grids (``sdf``) and the zero
contour of a field as a closed surface (``contour``)."""
