"""Surface meshes from sampled signed-distance fields (zero contour), and light copies.

The zero iso-surface of a field sampled on a grid whose border is outside the shape is
closed and manifold; the same sampled field is what the density volume interpolates, so
surfaces and X-rays agree.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
import vtk
from vtk.util import numpy_support

from vp3d.geometry.sdf import Grid

ISO_OFFSET_MM = -2.3e-4


def image_data(field: np.ndarray, grid: Grid) -> vtk.vtkImageData:
    """Wrap a field sampled on ``grid`` (x-fastest order handled here) as vtkImageData."""
    img = vtk.vtkImageData()
    img.SetDimensions(*grid.shape)
    img.SetOrigin(*grid.origin_mm)
    img.SetSpacing(grid.spacing_mm, grid.spacing_mm, grid.spacing_mm)
    arr = numpy_support.numpy_to_vtk(np.ascontiguousarray(field.ravel(order="F")), deep=True)
    arr.SetName("sdf")
    img.GetPointData().SetScalars(arr)
    return img


def contour_zero(field: np.ndarray, grid: Grid) -> pv.PolyData:
    """Closed triangle mesh of the zero level set of ``field`` (negative inside)."""
    if not (field[0].min() > 0 and field[-1].min() > 0 and field[:, 0].min() > 0
            and field[:, -1].min() > 0 and field[:, :, 0].min() > 0 and field[:, :, -1].min() > 0):
        raise ValueError("the shape touches the grid border; its surface would not be closed")
    fe = vtk.vtkFlyingEdges3D()
    fe.SetInputData(image_data(field, grid))
    # A hair inside zero: planar parts of a field often sit exactly on grid points, and an
    # iso-value equal to sample values makes degenerate, non-manifold triangles.
    fe.SetValue(0, ISO_OFFSET_MM)
    fe.ComputeNormalsOff()
    fe.ComputeGradientsOff()
    fe.ComputeScalarsOff()
    fe.Update()
    mesh = pv.wrap(fe.GetOutput())
    mesh = mesh.clean()
    # Keep only the outward-facing orientation VTK gives for "negative inside" fields.
    return mesh.compute_normals(auto_orient_normals=True, consistent_normals=True,
                                split_vertices=False)


def decimate(mesh: pv.PolyData, target_triangles: int) -> pv.PolyData:
    """Reduce to about ``target_triangles`` with quadric decimation, keeping it closed."""
    n = mesh.n_cells
    if n <= target_triangles:
        return mesh
    dec = vtk.vtkQuadricDecimation()
    dec.SetInputData(mesh)
    dec.SetTargetReduction(1.0 - target_triangles / n)
    dec.VolumePreservationOn()
    dec.Update()
    out = pv.wrap(dec.GetOutput()).clean()
    if not is_closed_manifold(out):
        # Quadric decimation can pinch thin parts; the slower topology-preserving
        # decimator never opens or splits the surface.
        pro = vtk.vtkDecimatePro()
        pro.SetInputData(mesh)
        pro.SetTargetReduction(1.0 - target_triangles / n)
        pro.PreserveTopologyOn()
        pro.BoundaryVertexDeletionOff()
        pro.SplittingOff()
        pro.Update()
        out = pv.wrap(pro.GetOutput()).clean()
        if not is_closed_manifold(out):
            out = mesh
    return out.compute_normals(auto_orient_normals=True, consistent_normals=True,
                               split_vertices=False)


def is_closed_manifold(mesh: pv.PolyData) -> bool:
    """True when every edge is shared by exactly two triangles."""
    fe = vtk.vtkFeatureEdges()
    fe.SetInputData(mesh)
    fe.BoundaryEdgesOn()
    fe.NonManifoldEdgesOn()
    fe.FeatureEdgesOff()
    fe.ManifoldEdgesOff()
    fe.Update()
    return fe.GetOutput().GetNumberOfCells() == 0 and mesh.n_cells > 0
