"""Line integrals of attenuation through a voxel volume for a cone-beam C-arm.

Method: Joseph's projector (Joseph 1982, IEEE TMI 1:192) evaluated slice by slice. The
volume is cut into slices across the axis most parallel to the beam; each ray takes one
bilinear sample per slice and is weighted by its path length per slice,
``spacing / |cos(angle to that axis)|``. Rays are first traced through a regular grid on the
slice plane farthest from the source: seen from a point source, every other slice meets
those rays on a regular, axis-aligned grid too (only scaled), so the bilinear sampling of a
slice is separable and, over all slices at once, is two sparse matrix products
(scipy.sparse, which releases the GIL; slices are split across a small thread pool). The
per-ray sums are then interpolated bilinearly at each pixel's own ray. Cost grows with the
voxel count, not with the number of pixels.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from vp3d.fluoro.carm import CArm
from vp3d.anatomy.volume import Volume

# Volume axes as (slice axis, in-slice axis b, in-slice axis c); the far-plane ray grid is
# laid out along b and c.
SLICE_ORDER = {0: (0, 1, 2), 1: (1, 0, 2), 2: (2, 0, 1)}
# Slices go through the sparse products in chunks of about this many voxels: small enough
# for the intermediate arrays to stay in cache (measured fastest near 0.6 M on 2 cores).
_CHUNK_VOXELS = 600_000
_MAX_WORKERS = max(1, min(4, os.cpu_count() or 1))
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    """Shared worker threads (created on first use, recreated after a fork)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_MAX_WORKERS, thread_name_prefix="vp3d-fluoro")
    return _pool


def _forget_pool_after_fork() -> None:
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _map(function, items: list) -> list:
    """Run ``function`` over ``items`` on the pool when there is more than one."""
    if len(items) <= 1 or _MAX_WORKERS == 1:
        return [function(item) for item in items]
    return list(_executor().map(function, items))


def slice_axis(carm: CArm) -> int:
    """Volume axis (0 x, 1 y, 2 z) most parallel to the central ray, across which to slice."""
    return int(np.argmax(np.abs(carm.beam_direction)))


def check_volume(volume: Volume) -> None:
    """Raise ValueError unless ``volume`` looks like a :class:`vp3d.anatomy.volume.Volume` we can project."""
    for name in ("mu_per_mm", "spacing_mm", "origin_mm"):
        if not hasattr(volume, name):
            raise ValueError(f"volume must have mu_per_mm, spacing_mm and origin_mm; missing {name}")
    mu = volume.mu_per_mm
    if not isinstance(mu, np.ndarray) or mu.ndim != 3 or min(mu.shape) < 1:
        raise ValueError(f"volume.mu_per_mm must be a non-empty 3-D array, got {getattr(mu, 'shape', mu)!r}")
    spacing = float(volume.spacing_mm)
    if not (math.isfinite(spacing) and spacing > 0):
        raise ValueError(f"volume.spacing_mm must be finite and > 0, got {volume.spacing_mm!r}")
    if not np.all(np.isfinite(volume.origin_mm)):
        raise ValueError(f"volume.origin_mm must be finite, got {volume.origin_mm!r}")


def box_corners(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The 8 corners of an axis-aligned box, ``(8, 3)``."""
    pick = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    return np.where(pick, high, low)


def voxel_box_corners_mm(origin_mm, spacing_mm: float, shape, pad_voxels: float = 0.5) -> np.ndarray:
    """The 8 corners of the box ``pad_voxels`` beyond the outer voxel centres, ``(8, 3)``."""
    origin_mm = np.asarray(origin_mm, float)
    return box_corners(
        origin_mm - pad_voxels * spacing_mm, origin_mm + spacing_mm * (np.asarray(shape, float) - 1.0 + pad_voxels)
    )


def pixel_window(carm: CArm, corners_mm: np.ndarray, margin_px: int = 2) -> tuple[int, int, int, int] | None:
    """Pixel rectangle ``(row0, row1, col0, col1)`` (ends exclusive) covering the projection of a
    convex body with these corners, or None if it misses the image."""
    rowcol = carm.project_mm(corners_mm)
    if not np.all(np.isfinite(rowcol)):
        raise ValueError("an object to project reaches behind the X-ray source; increase sod_mm or move it")
    row0 = max(0, int(np.floor(rowcol[:, 0].min())) - margin_px)
    row1 = min(carm.rows, int(np.ceil(rowcol[:, 0].max())) + margin_px + 1)
    col0 = max(0, int(np.floor(rowcol[:, 1].min())) - margin_px)
    col1 = min(carm.cols, int(np.ceil(rowcol[:, 1].max())) + margin_px + 1)
    if row0 >= row1 or col0 >= col1:
        return None
    return row0, row1, col0, col1


def ray_directions_mm(carm: CArm, window: tuple[int, int, int, int]) -> np.ndarray:
    """Vectors from the source to the pixel centres of ``window``, ``(rows, cols, 3)``."""
    return np.stack(ray_components_mm(carm, window, (0, 1, 2)), axis=-1)


def ray_components_mm(carm: CArm, window: tuple[int, int, int, int], axes) -> list[np.ndarray]:
    """Components ``axes`` of the source-to-pixel vectors of ``window``, each ``(rows, cols)``.

    Each component is affine in the pixel offsets, so it is an outer sum (no ``(rows, cols, 3)``
    array is built).
    """
    row0, row1, col0, col1 = window
    up, right = carm.pixel_offsets_mm()
    to_center = carm.detector_center_mm() - carm.source_mm()
    return [
        (to_center[i] + up[row0:row1, None] * carm.up_direction[i]) + right[None, col0:col1] * carm.right_direction[i]
        for i in axes
    ]


def ray_lengths_mm(carm: CArm, window: tuple[int, int, int, int]) -> np.ndarray:
    """Source-to-pixel-centre distances of ``window``, ``(rows, cols)``."""
    row0, row1, col0, col1 = window
    up, right = carm.pixel_offsets_mm()
    return np.sqrt(carm.sid_mm**2 + up[row0:row1, None] ** 2 + right[None, col0:col1] ** 2)


def _interpolation_matrix(
    positions: np.ndarray,
    n_source: int,
    n_columns: int,
    first: int,
    block_stride: int,
    source_stride: int,
    by_block: bool,
) -> sparse.csr_matrix:
    """Sparse linear-interpolation operator, zero outside source indices ``[0, n_source - 1]``.

    ``positions[k, r]`` is the fractional source index ``i`` wanted by output ``r`` of block
    ``k``; it reads dense row ``first + k * block_stride + i * source_stride``. Output rows
    are ``(k, r)`` with ``by_block``, otherwise ``r`` alone with the blocks summed.
    """
    n_blocks, n_out = positions.shape
    floor = np.floor(positions)
    weight = (positions - floor).astype(np.float32)
    index = floor.astype(np.int64)
    columns = np.stack([index, index + 1], axis=-1)  # (K, R, 2)
    values = np.stack([1.0 - weight, weight], axis=-1)
    keep = (columns >= 0) & (columns < n_source) & (values != 0)
    columns = first + source_stride * columns + (block_stride * np.arange(n_blocks))[:, None, None]
    if not by_block:  # order the entries by output r, then block k
        columns, values, keep = (a.transpose(1, 0, 2) for a in (columns, values, keep))
    counts = keep.reshape(-1, 2 if by_block else 2 * n_blocks).sum(axis=1)
    indptr = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    shape = (counts.size, n_columns)
    index_type = np.int32 if max(shape[1], indptr[-1]) < 2**31 - 1 else np.int64
    return sparse.csr_matrix(
        (values[keep], columns[keep].astype(index_type), indptr.astype(index_type)), shape=shape
    )


def _slab_sums(mu, axis, source, far, grid_b, grid_c, k0, k1) -> np.ndarray:
    """Sum over slices ``k0:k1`` of bilinear samples along rays through the far-plane grid, ``(N, M)``.

    ``mu`` is the C-contiguous volume in its own ``(x, y, z)`` layout. Slicing across x or y
    leaves z, the contiguous axis, along each slice's rows, so the first product reads ``mu``
    in place; slicing across z copies this chunk of slices.
    """
    nx, ny, nz = mu.shape
    if axis == 2:  # dense rows (k - k0, x), columns y
        dense = np.ascontiguousarray(mu[:, :, k0:k1].transpose(2, 0, 1)).reshape(-1, ny)
        first, block_stride, source_stride, nb, nc = 0, nx, 1, nx, ny
    elif axis == 1:  # dense rows (x, k), columns z
        dense = mu.reshape(nx * ny, nz)
        first, block_stride, source_stride, nb, nc = k0, 1, ny, nx, nz
    else:  # dense rows (k, y), columns z
        dense = mu.reshape(nx * ny, nz)
        first, block_stride, source_stride, nb, nc = k0 * ny, ny, 1, ny, nz
    n_slices, n_b = k1 - k0, grid_b.size
    shrink = (np.arange(k0, k1) - source[0]) / (far - source[0])  # (K,) in (0, 1]
    b = source[1] + (grid_b[None, :] - source[1]) * shrink[:, None]  # (K, M)
    c = source[2] + (grid_c[None, :] - source[2]) * shrink[:, None]  # (K, N)
    along_b = _interpolation_matrix(b, nb, dense.shape[0], first, block_stride, source_stride, True) @ dense
    by_c = np.ascontiguousarray(along_b.reshape(n_slices, n_b, nc).transpose(0, 2, 1))  # (K, nc, M)
    return _interpolation_matrix(c, nc, n_slices * nc, 0, nc, 1, False) @ by_c.reshape(-1, n_b)


def _bilinear(image: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` at fractional ``(y, x)``, zero outside it."""
    padded = np.pad(image, 1)
    ny, nx = padded.shape
    y = np.clip(y + 1.0, 0.0, ny - 1.0)
    x = np.clip(x + 1.0, 0.0, nx - 1.0)
    y0 = np.minimum(y.astype(np.int64), ny - 2)
    x0 = np.minimum(x.astype(np.int64), nx - 2)
    wy = (y - y0).astype(np.float32)
    wx = (x - x0).astype(np.float32)
    flat = padded.ravel()
    corner = y0 * nx + x0
    top = flat[corner] * (1 - wx) + flat[corner + 1] * wx
    bottom = flat[corner + nx] * (1 - wx) + flat[corner + nx + 1] * wx
    return top * (1 - wy) + bottom * wy


def project(
    mu_per_mm: np.ndarray,
    origin_mm: np.ndarray,
    spacing_mm: float,
    carm: CArm,
    out: np.ndarray,
    scale: float = 1.0,
) -> tuple[int, int, int, int] | None:
    """Add ``scale`` x the line integrals through ``mu_per_mm`` (``(x, y, z)`` grid) into ``out``.

    ``out`` is float32 ``(rows, cols)``; only the pixels whose rays can meet the volume box
    are touched, and that window is returned (None if no ray meets it).
    """
    mu = np.ascontiguousarray(mu_per_mm, dtype=np.float32)
    axis = slice_axis(carm)
    order = SLICE_ORDER[axis]
    shape = mu.shape
    n_slices, n_b, n_c = (shape[i] for i in order)
    origin_mm = np.asarray(origin_mm, float)
    corners = voxel_box_corners_mm(origin_mm, spacing_mm, shape)
    depth = (corners - carm.source_mm()) @ carm.beam_direction
    if depth.max() >= carm.sid_mm:
        raise ValueError("the volume reaches the detector; it must lie between the source and the detector")
    source = ((carm.source_mm() - origin_mm) / spacing_mm)[list(order)]  # index units, slice order
    if -0.5 <= source[0] <= n_slices - 0.5 or depth.min() <= 0:
        raise ValueError(
            "the X-ray source lies within the volume's extent along the beam; increase sod_mm "
            f"(now {carm.sod_mm:g} mm) or crop the volume"
        )
    # A voxel reaches rays up to one voxel away (bilinear in the slice) plus one more through
    # the far-plane ray grid (spacing one voxel there, less nearer the source).
    window = pixel_window(carm, voxel_box_corners_mm(origin_mm, spacing_mm, shape, pad_voxels=2.0), margin_px=1)
    if window is None:
        return None
    far = float(n_slices - 1) if source[0] < 0 else 0.0
    near = float(n_slices - 1) - far
    shrink_near = (near - source[0]) / (far - source[0])

    def far_plane(along: np.ndarray, across_b: np.ndarray, across_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where rays with these direction components (slice order) cross the far slice plane."""
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (far - source[0]) / along
        return source[1] + t * across_b, source[2] + t * across_c

    # Far-plane grid: covers every ray that meets some slice (zero-padded by one voxel) and
    # every ray of the pixel window, one voxel apart.
    ranges = []
    for axis_in_slice, n in ((1, n_b), (2, n_c)):
        centre = source[axis_in_slice]
        ends = [centre + (edge - centre) / s for edge in (-1.0, n) for s in (1.0, shrink_near)]
        ranges.append((min(ends), max(ends)))
    row0, row1, col0, col1 = window
    corner_rays = np.array(
        [ray_directions_mm(carm, (r, r + 1, c, c + 1))[0, 0] for r in (row0, row1 - 1) for c in (col0, col1 - 1)]
    )[:, list(order)]
    if np.any(corner_rays[:, 0] * (far - source[0]) <= 0):
        raise ValueError("the cone of rays is too wide for this volume; narrow field_mm or increase sid_mm")
    corner_b, corner_c = far_plane(*corner_rays.T)
    grids = []
    for (low, high), seen in zip(ranges, (corner_b, corner_c)):
        low, high = max(low, seen.min() - 2.0), min(high, seen.max() + 2.0)
        if low > high:
            return None
        grids.append(np.arange(math.floor(low), math.ceil(high) + 1.0))
    grid_b, grid_c = grids

    n_chunks = min(n_slices, max(1, round(mu.size / _CHUNK_VOXELS)))
    bounds = np.linspace(0, n_slices, n_chunks + 1).round().astype(int)
    parts = _map(
        lambda i: _slab_sums(mu, axis, source, far, grid_b, grid_c, bounds[i], bounds[i + 1]),
        list(range(n_chunks)),
    )
    sums = parts[0]
    for part in parts[1:]:
        sums += part  # (N, M): c along rows, b along columns

    # Sample the sums along each pixel's own ray and weight by path length per slice.
    def fill(rows: tuple[int, int]) -> None:
        sub = (rows[0], rows[1], col0, col1)
        along, across_b, across_c = ray_components_mm(carm, sub, order)
        b, c = far_plane(along, across_b, across_c)
        forward = along * (far - source[0]) > 0
        step_mm = ray_lengths_mm(carm, sub) * (spacing_mm * scale) / np.abs(along)
        values = _bilinear(sums, np.where(forward, c - grid_c[0], -2.0), np.where(forward, b - grid_b[0], -2.0))
        out[rows[0] : rows[1], col0:col1] += values * step_mm.astype(np.float32)

    bands = 1 if (row1 - row0) * (col1 - col0) < 50_000 else min(row1 - row0, 2 * _MAX_WORKERS)
    edges = np.linspace(row0, row1, bands + 1).round().astype(int)
    _map(fill, [(edges[i], edges[i + 1]) for i in range(edges.size - 1)])
    return window


def line_integrals(volume: Volume, carm: CArm) -> np.ndarray:
    """Integral of ``volume.mu_per_mm`` from the source to each pixel centre (dimensionless).

    Parameters
    ----------
    volume : vp3d.anatomy.volume.Volume
        Attenuation volume (1/mm); zero outside its voxels.
    carm : CArm
        Pose and detector.

    Returns
    -------
    numpy.ndarray
        float32 ``(rows, cols)``.
    """
    check_volume(volume)
    out = np.zeros((carm.rows, carm.cols), dtype=np.float32)
    project(volume.mu_per_mm, volume.origin_mm, float(volume.spacing_mm), carm, out)
    if volume.surround is not None:  # the coarse body around the fine box
        out += line_integrals(volume.surround, carm)
    return out


def mask_line_integrals(mask: np.ndarray, volume: Volume, carm: CArm, mu_per_mm: float) -> np.ndarray:
    """Line integrals of a uniform material filling the voxels of a boolean ``mask`` (cement).

    Only the bounding box of the mask is projected, so a few tens of thousands of voxels cost
    a few milliseconds whatever the volume size.

    Parameters
    ----------
    mask : numpy.ndarray
        bool, same shape as ``volume.mu_per_mm``.
    volume : vp3d.anatomy.volume.Volume
        Gives the grid (origin, spacing) the mask lives on.
    carm : CArm
        Pose and detector.
    mu_per_mm : float
        Linear attenuation of the material, >= 0 (1/mm).

    Returns
    -------
    numpy.ndarray
        float32 ``(rows, cols)``.
    """
    check_volume(volume)
    mask = np.asarray(mask)
    if mask.shape != volume.mu_per_mm.shape:
        raise ValueError(f"mask shape {mask.shape} must equal the volume shape {volume.mu_per_mm.shape}")
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be a boolean array, got dtype {mask.dtype}")
    mu = float(mu_per_mm)
    if not (math.isfinite(mu) and mu >= 0):
        raise ValueError(f"mu_per_mm must be a finite number >= 0, got {mu_per_mm!r}")
    out = np.zeros((carm.rows, carm.cols), dtype=np.float32)
    flat = np.flatnonzero(mask) if mask.flags.c_contiguous else np.flatnonzero(np.ascontiguousarray(mask))
    if flat.size == 0 or mu == 0:
        return out
    index = np.unravel_index(flat, mask.shape)
    low = np.array([i.min() for i in index])
    high = np.array([i.max() for i in index]) + 1
    crop = mask[low[0] : high[0], low[1] : high[1], low[2] : high[2]]
    spacing = float(volume.spacing_mm)
    project(crop, np.asarray(volume.origin_mm, float) + spacing * low, spacing, carm, out, scale=mu)
    return out
