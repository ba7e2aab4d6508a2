"""The trunk around the spine: ribs, lungs, diaphragm, organs, great vessels, muscles, pelvis.

Every structure is placed from the vertebrae of the teaching model (all levels T1-L5 are known
in the patient frame, whatever range a scene builds, so a T5 scene has its lungs and an L5
scene its pelvis) and painted as tissue labels into the density volume, the same one the
fluoroscopy, the needle readouts and the cement use. Sizes and positions, each with its
published source, are in ``data/body.csv``; densities are in ``data/attenuation.csv``.

Painting order (a later structure wins): paraspinal muscle, organs and their fat, bowel gas,
psoas, lungs, heart and great vessels, ribs, sacrum and iliac wings. The spine's own parts (thecal
sac, discs, vertebrae) are painted after the trunk, so bone and canal are never overwritten.

Shapes are simple on purpose (ellipses, capsules, arcs): they give the landmarks a reader of
fluoroscopy needs (rib shadows, lung fields, the diaphragm, psoas and kidney outlines, the iliac
crests at L4-L5, the sacrum) at the right levels, not a patient's exact anatomy.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from vp3d.anatomy.alignment import level_transforms
from vp3d.anatomy.vertebra import lower_joints, vertebra_shape
from vp3d.anatomy.morphometry import LEVELS, morphometry
from vp3d.anatomy.volume import Label

DATA = Path(__file__).resolve().parents[1] / "data" / "body.csv"


@lru_cache(maxsize=1)
def body_table() -> dict[str, tuple[str, str, str]]:
    """``name -> (value, unit, source)`` from ``data/body.csv``."""
    lines = [ln for ln in DATA.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    return {r["name"]: (r["value"], r["unit"], r["source"]) for r in csv.DictReader(lines)}


def _num(name: str) -> float:
    return float(body_table()[name][0])


def _vec(name: str) -> np.ndarray:
    return np.array([float(v) for v in body_table()[name][0].split(",")])


def _level(name: str) -> str:
    return body_table()[name][0]


@dataclass(frozen=True)
class Capsule:
    """A round rod from ``a`` to ``b`` (patient mm) of radius ``radius_mm``: one rib segment."""

    a: np.ndarray
    b: np.ndarray
    radius_mm: float
    cartilage: bool = False  # a costal cartilage, the front end of a rib

    def inside(self, x: np.ndarray, y: np.ndarray, z: float) -> np.ndarray:
        ab = self.b - self.a
        t = ((x - self.a[0]) * ab[0] + (y - self.a[1]) * ab[1] + (z - self.a[2]) * ab[2]) / float(ab @ ab)
        t = np.clip(t, 0.0, 1.0)
        dx, dy, dz = x - (self.a[0] + t * ab[0]), y - (self.a[1] + t * ab[1]), z - (self.a[2] + t * ab[2])
        return dx * dx + dy * dy + dz * dz < self.radius_mm ** 2

    def z_range(self) -> tuple[float, float]:
        return min(self.a[2], self.b[2]) - self.radius_mm, max(self.a[2], self.b[2]) + self.radius_mm


class Trunk:
    """The body around the spine, built from the positions of every level T1-L5."""

    def __init__(self, torso) -> None:

        self.torso = torso
        tf = level_transforms()
        self.transforms = tf
        m = {lv: morphometry(lv) for lv in LEVELS}
        self.z = {lv: float(tf[lv][2, 3]) for lv in LEVELS}
        order = sorted(LEVELS, key=lambda lv: self.z[lv])  # caudal to cranial
        self._zs = np.array([self.z[lv] for lv in order])
        self._y = np.array([tf[lv][1, 3] for lv in order])
        self._hw = np.array([m[lv].endplate_width_mm / 2 for lv in order])
        self._hd = np.array([m[lv].endplate_depth_mm / 2 for lv in order])
        self._height = {lv: m[lv].body_anterior_height_mm for lv in LEVELS}
        self.ribs = self._ribs(m)
        self.sacrum = self._sacrum()
        rng = np.random.default_rng(int(_num("bowel_gas_seed")))
        z_lo, z_hi = self.z["L5"], self.z["L1"]
        n = int(_num("bowel_gas_pockets"))
        # Pockets of bowel gas: short tubes lying across the abdomen, as loops of colon do.
        self.gas = np.column_stack([rng.uniform(-90, 90, n), rng.uniform(55, 110, n),
                                    rng.uniform(z_lo, z_hi, n), rng.uniform(5, 9, n),
                                    rng.uniform(-0.6, 0.6, n), rng.uniform(15, 35, n)])

    # -- the column's centre line, by height -----------------------------------------------------
    def centre_y(self, z):
        return np.interp(z, self._zs, self._y)

    def half_width(self, z):
        return np.interp(z, self._zs, self._hw)

    def half_depth(self, z):
        return np.interp(z, self._zs, self._hd)

    def disc_z(self, upper: str, lower: str) -> float:
        return 0.5 * (self.z[upper] + self.z[lower])

    # -- ribs -----------------------------------------------------------------------------------
    def _ribs(self, m) -> list[Capsule]:
        """Twelve pairs: head beside the body, tubercle on the transverse process, then an arc
        around the chest wall that descends anteriorly."""
        radius = 0.5 * (_num("rib_height_mm") + _num("rib_thickness_mm")) / 2
        slope = np.tan(np.radians(_num("rib_slope_deg")))
        wall = _num("chest_wall_mm")
        out = []
        for i in range(1, 13):
            lv = f"T{i}"
            tf = self.transforms[lv]
            tips = _tips(lv)  # transverse-process tips, local frame, right then left
            z0, y0 = self.z[lv], float(tf[1, 3])
            hw, hd = m[lv].endplate_width_mm / 2, m[lv].endplate_depth_mm / 2
            arc = _num("rib_arc_true_deg") if i <= 7 else (
                _num("rib_arc_floating_deg") if i >= 11 else 0.5 * (_num("rib_arc_true_deg") + _num("rib_arc_floating_deg")))
            for side, tip_local in zip((1.0, -1.0), tips):
                head = np.array([side * (hw + 2.0), y0 - 0.45 * hd, z0 + 0.45 * self._height[lv]])
                tubercle = tf[:3, :3] @ tip_local + tf[:3, 3] + np.array([0.0, 4.0, 0.0])
                pts = [head, tubercle]
                # Around the chest wall from the tubercle: an ellipse inside the torso outline.
                back = float(self.torso.back_y(tubercle[2]))
                cy = back + self.torso.depth_mm / 2
                a_x = self.torso.half_width_mm - wall - 8.0
                b_y = self.torso.depth_mm / 2 - wall - 8.0
                start = np.arctan2((tubercle[1] - cy) / b_y, side * tubercle[0] / a_x)
                start = min(start, -np.pi / 2 + 0.35)
                length = 0.0
                prev = tubercle
                end = start + np.radians(arc)
                if i <= 7:  # true ribs end at the sternum's edge, not across it
                    end = min(end, float(np.arccos(18.0 / a_x)))
                for ang in np.linspace(start, end, 14)[1:]:
                    p = np.array([side * a_x * np.cos(ang), cy + b_y * np.sin(ang), 0.0])
                    step = np.hypot(p[0] - prev[0], p[1] - prev[1])
                    length += step
                    p[2] = tubercle[2] - slope * length
                    pts.append(p)
                    prev = p
                # Ribs 1-10 end in costal cartilage at the front (Gray's Anatomy, 41st ed. 2016):
                # the last segments, which reach toward the sternum and the costal margin.
                n_cart = 3 if i <= 10 else 0
                n = len(pts) - 1
                out += [Capsule(a, b, radius, cartilage=j >= n - n_cart)
                        for j, (a, b) in enumerate(zip(pts, pts[1:]))]
        return out

    # -- pelvis ---------------------------------------------------------------------------------
    def _sacrum(self) -> dict:
        """S1 below L5 across the lumbosacral disc; the sacrum tapers and tilts back below it."""
        tf = self.transforms["L5"]
        down = -tf[:3, 2]  # L5's caudal axis
        m5 = morphometry("L5")
        ant5 = tf[:3, 1]
        # S1's back wall continues L5's (George's line): its posterior-superior corner lies
        # across the disc from L5's posterior-inferior corner.
        corner5 = tf[:3, 3] + down * m5.body_posterior_height_mm / 2 - ant5 * m5.endplate_depth_mm / 2
        # The S1 endplate slopes at the sacral slope; the sacrum's axis is perpendicular to it,
        # running down and back.
        slope = np.radians(_num("sacral_slope_deg"))
        sac_down = np.array([0.0, -np.sin(slope), -np.cos(slope)])
        sac_ant = np.array([0.0, np.cos(slope), -np.sin(slope)])
        top = corner5 + down * _num("lumbosacral_disc_mm") + sac_ant * m5.endplate_depth_mm / 2
        # Curvature index (chord / arc) c of a circular arc of length L: sin(a/2) / (a/2) = c,
        # sagitta = L / a * (1 - cos(a/2)).
        length, index = _num("sacrum_height_mm"), _num("sacral_curvature_index")
        half = brentq(lambda h: np.sin(h) / h - index, 1e-3, 1.5)
        return {"top": top, "down": sac_down, "anterior": sac_ant, "height": length,
                "width": _num("sacrum_width_mm"), "depth": m5.endplate_depth_mm,
                "body_width": m5.endplate_width_mm, "ala_drop": _num("sacral_ala_drop_mm"),
                "sagitta": length / (2 * half) * (1.0 - np.cos(half)), "cortex": _num("sacral_cortex_mm")}

    # -- painting ---------------------------------------------------------------------------------
    def paint_grid(self, labels: np.ndarray, xs: np.ndarray, ys: np.ndarray, zs: np.ndarray,
                   step_mm: float = 1.0) -> None:
        """:meth:`paint` a fine grid at about ``step_mm`` and copy the result to its voxels.

        The trunk is context around the spine: painting it at 1 mm and repeating each label
        over the finer voxels keeps a 0.5 mm volume fast; the spine's own parts stay fine.
        """
        spacing = float(xs[1] - xs[0]) if len(xs) > 1 else step_mm
        r = max(1, int(round(step_mm / spacing)))
        if r == 1:
            self.paint(labels, xs, ys, zs)
            return
        sub = np.ascontiguousarray(labels[::r, ::r, ::r])
        before = sub.copy()
        self.paint(sub, xs[::r], ys[::r], zs[::r])
        n = labels.shape
        changed = sub != before
        for axis in range(3):
            sub = np.repeat(sub, r, axis=axis)
            changed = np.repeat(changed, r, axis=axis)
        sub, changed = sub[: n[0], : n[1], : n[2]], changed[: n[0], : n[1], : n[2]]
        keep = (labels == Label.AIR) | (labels == Label.SKIN) | (labels == Label.FAT)
        where = changed & ~keep
        labels[where] = sub[where]

    def paint(self, labels: np.ndarray, xs: np.ndarray, ys: np.ndarray, zs: np.ndarray) -> None:
        """Paint the trunk's tissues into ``labels`` (``(len(xs), len(ys), len(zs))``), only
        where the torso already holds tissue; skin, fat and air stay as they are."""
        X, Y = np.meshgrid(xs, ys, indexing="ij")
        rib_z = [(c, *c.z_range()) for c in self.ribs]
        z_diaphragm = self.z[_level("diaphragm_right_dome_level")]
        # The diaphragm's lowest point (the left posterior recess at the edge of the trunk) and
        # the liver's bottom below it bound the slices that need the diaphragm at all.
        z_dia_low = (z_diaphragm - _num("diaphragm_left_drop_mm") - 35.0 * (105.0 / 100.0) ** 2
                     - _num("diaphragm_recess_drop_mm"))
        z_upper_abdomen = z_dia_low - _num("liver_depth_mm")
        erector_x = _num("erector_half_width_mm")
        i0, i1 = np.searchsorted(xs, [-erector_x, erector_x])
        z_lung_top = self.z["T1"] + 30.0
        z_heart = self.z[_level("heart_level")]
        z_crest = self.disc_z("L4", "L5")
        for k, z in enumerate(zs):
            sl = labels[:, :, k]
            body = (sl != Label.AIR) & (sl != Label.SKIN) & (sl != Label.FAT)
            if not body.any():
                continue
            yc, hw, hd = float(self.centre_y(z)), float(self.half_width(z)), float(self.half_depth(z))
            y_post, y_ant = yc - hd, yc + hd
            back = float(self.torso.back_y(z))
            # Erector spinae: behind the bodies, beside the spinous processes.
            j1 = int(np.searchsorted(ys, y_post - 4.0))
            sub = sl[i0:i1, :j1]
            sub[body[i0:i1, :j1]] = Label.MUSCLE
            if not (z_upper_abdomen < z < z_diaphragm + 1.0):
                below = np.full(X.shape, z < z_upper_abdomen)
            else:
                below = self._paint_upper_abdomen(sl, body, X, Y, z, yc, hw, y_ant, z_diaphragm)
            self._paint_lower(sl, body, X, Y, xs, ys, z, yc, hw, hd, y_post, y_ant, back, below,
                              rib_z, z_lung_top, z_heart, z_crest)

    def _z_diaphragm(self, X, Y, yc, z_diaphragm):
        """Height of the diaphragm over (X, Y): domes (right higher), falling laterally and to
        the posterior recesses."""
        dome = z_diaphragm - np.where(X < 0, _num("diaphragm_left_drop_mm"), 0.0)
        return (dome - 35.0 * ((np.abs(X) - 60.0) / 100.0) ** 2
                - _num("diaphragm_recess_drop_mm") * np.clip((yc + 40.0 - Y) / 120.0, 0.0, 1.0) ** 2)

    def _paint_upper_abdomen(self, sl, body, X, Y, z, yc, hw, y_ant, z_diaphragm) -> np.ndarray:
        """Liver (right) and stomach (left, gas in its fundus) under the domes."""
        z_dia = self._z_diaphragm(X, Y, yc, z_diaphragm)
        below = z < z_dia
        # Liver (right) and stomach (left) under the domes: rounded masses filling the dome.
        depth = _num("liver_depth_mm")
        top = z_diaphragm
        liver = body & below & ((((X - 55.0) / 110.0) ** 2 + ((Y - (yc + 55.0)) / 85.0) ** 2
                                 + ((z - (top - 0.45 * depth)) / (0.6 * depth)) ** 2) < 1.0) & (X > -45.0)
        sl[liver] = Label.ORGAN
        stomach = body & below & ((((X + 70.0) / 50.0) ** 2 + ((Y - (yc + 60.0)) / 45.0) ** 2
                                   + ((z - (top - 70.0)) / 65.0) ** 2) < 1.0)
        sl[stomach] = Label.ORGAN
        fundus_gas = stomach & (z > z_dia - 30.0) & (Y > yc + 40.0)
        sl[fundus_gas] = Label.GAS
        return below

    def _paint_lower(self, sl, body, X, Y, xs, ys, z, yc, hw, hd, y_post, y_ant, back, below,
                     rib_z, z_lung_top, z_heart, z_crest) -> None:
        """Kidneys, bowel gas, psoas, lungs and heart, great vessels, ribs and pelvis."""
        # Kidneys in their fat, beside the upper lumbar spine.
        for side, lv, drop in ((-1.0, _level("kidney_left_level"), 0.0),
                               (1.0, _level("kidney_left_level"), _num("kidney_right_drop_mm"))):
            rx, ry, rz = _vec("kidney_radii_mm")
            cz = self.z[lv] - drop
            if abs(z - cz) > rz + _num("perirenal_fat_mm"):
                continue
            cx, cy = side * _num("kidney_center_x_mm"), yc - 5.0
            q = ((X - cx) / rx) ** 2 + ((Y - cy) / ry) ** 2 + ((z - cz) / rz) ** 2
            f = _num("perirenal_fat_mm")
            qf = ((X - cx) / (rx + f)) ** 2 + ((Y - cy) / (ry + f)) ** 2 + ((z - cz) / (rz + f)) ** 2
            sl[body & (qf < 1.0)] = Label.FAT
            sl[body & (q < 1.0)] = Label.ORGAN
        # Bowel gas pockets (reproducible), in front of the lumbar spine.
        for gx, gy, gz, gr, turn, half_len in self.gas:
            # A capsule of radius gr, half_len long, turned by `turn` in the coronal plane.
            dz = z - gz
            if abs(dz) > gr + half_len:
                continue
            along = np.clip((X - gx) * np.cos(turn) + dz * np.sin(turn), -half_len, half_len)
            px, pz = gx + along * np.cos(turn), gz + along * np.sin(turn)
            d2 = (X - px) ** 2 + (Y - (yc + gy)) ** 2 + (z - pz) ** 2
            sl[body & (d2 < gr * gr) & (Y > y_ant + 20.0)] = Label.GAS
        # Psoas: from T12 down, widening to L4-L5.
        z_ps_top = self.z[_level("psoas_top_level")]
        if z < z_ps_top:
            grow = np.clip((z_ps_top - z) / max(z_ps_top - self.z["L4"], 1.0), 0.0, 1.0)
            r = 6.0 + (_num("psoas_radius_l4_mm") - 6.0) * grow
            for side in (1.0, -1.0):
                cx = side * (hw + 0.8 * r)
                sl[body & (((X - cx) / r) ** 2 + ((Y - (yc + 0.1 * hd)) / (1.2 * r)) ** 2 < 1.0)] = Label.MUSCLE
        # Lungs: inside the chest wall, above the diaphragm, beside the spine and the mediastinum.
        if z < z_lung_top:
            a_x = self.torso.half_width_mm - _num("chest_wall_mm") - 12.0
            b_y = self.torso.depth_mm / 2 - _num("chest_wall_mm") - 12.0
            cy = back + self.torso.depth_mm / 2
            apex = np.clip((z_lung_top - z) / 60.0, 0.0, 1.0)  # the apices narrow
            shrink = 0.55 + 0.45 * apex
            chest = ((X / (a_x * shrink)) ** 2 + ((Y - cy) / (b_y * shrink)) ** 2) < 1.0
            beside = np.abs(X) > hw + 8.0 + np.where(Y > y_ant, 18.0, 0.0)  # mediastinum in front
            behind_ok = Y > y_post - 30.0
            lung = body & chest & beside & behind_ok & ~below & (sl != Label.MUSCLE)
            # The heart sits in the mediastinum, its apex to the left.
            hx, hy, hz = _vec("heart_radii_mm")
            heart = ((X + 20.0) / hx) ** 2 + ((Y - (y_ant + 70.0)) / hy) ** 2 + ((z - z_heart) / hz) ** 2 < 1.0
            sl[lung & ~heart] = Label.LUNG
            sl[body & heart] = Label.BLOOD
        # Aorta (left, in front) and inferior vena cava (right, in front).
        if self.z[_level("aorta_bifurcation_level")] < z < self.z[_level("aorta_top_level")]:
            thoracic = z > self.z["T12"]
            r = (_num("aorta_thoracic_diameter_mm") if thoracic else _num("aorta_abdominal_diameter_mm")) / 2
            ax, ay = (-(hw + 2.0), yc + 0.55 * hd) if thoracic else (-12.0, y_ant + r + 2.0)
            sl[body & ((X - ax) ** 2 + (Y - ay) ** 2 < r * r)] = Label.BLOOD
        if self.z["L5"] < z < self.z[_level("ivc_top_level")]:
            r = _num("ivc_diameter_mm") / 2
            sl[body & ((X - 22.0) ** 2 + (Y - (y_ant + r + 4.0)) ** 2 < r * r)] = Label.BLOOD
        # Sternum: manubrium at T3-T4 down to the xiphoid at T9-T10, in the front chest wall.
        z_top_st, z_bot_st = self.z["T3"] + 10.0, self.z["T9"]
        if z_bot_st < z < z_top_st:
            y_front = back + self.torso.depth_mm - _num("chest_wall_mm") - 8.0
            f = (z_top_st - z) / (z_top_st - z_bot_st)
            half = 26.0 - 12.0 * f  # the manubrium is the widest part
            sl[body & ((X / half) ** 2 + ((Y - y_front) / 6.0) ** 2 < 1.0)] = Label.TRUNK_BONE
        # Spleen: under the left dome, behind the stomach, along ribs 9-11.
        rx, ry, rz = _vec("spleen_radii_mm")
        cz = self.z[_level("spleen_level")]
        if abs(z - cz) < rz:
            spleen = (((X + 95.0) / rx) ** 2 + ((Y - (yc + 5.0)) / ry) ** 2 + ((z - cz) / rz) ** 2) < 1.0
            sl[body & spleen & below] = Label.ORGAN
        # Ribs and their cartilages.
        for cap, lo, hi in rib_z:
            if lo <= z <= hi:
                r = cap.radius_mm
                i0, i1 = np.searchsorted(xs, [min(cap.a[0], cap.b[0]) - r, max(cap.a[0], cap.b[0]) + r])
                j0, j1 = np.searchsorted(ys, [min(cap.a[1], cap.b[1]) - r, max(cap.a[1], cap.b[1]) + r])
                if i1 <= i0 or j1 <= j0:
                    continue
                sub = sl[i0:i1, j0:j1]
                hit = body[i0:i1, j0:j1] & cap.inside(X[i0:i1, j0:j1], Y[i0:i1, j0:j1], z)
                sub[hit] = Label.CARTILAGE if cap.cartilage else Label.TRUNK_BONE
        # Sacrum and iliac wings.
        self._paint_pelvis(sl, body, X, Y, z, yc, z_crest)

    def _paint_pelvis(self, sl, body, X, Y, z, yc, z_crest) -> None:
        s = self.sacrum
        top, down, ant = s["top"], s["down"], s["anterior"]
        # Sacrum in its own frame: along its caudal axis (tilted back from L5's), front toward
        # its pelvic surface. The S1 body is as wide as L5's; the alae beside it reach the
        # sacroiliac joints a little lower; the whole bone narrows to its apex and curves with
        # its pelvic surface concave (sagitta from the curvature index); a cortex around marrow.
        if top[2] - 1.3 * s["height"] < z < top[2] + 15.0:
            dx, dy, dz = X - top[0], Y - top[1], z - top[2]
            along = dx * down[0] + dy * down[1] + dz * down[2]
            f = np.clip(along / s["height"], 0.0, 1.0)
            front = dx * ant[0] + dy * ant[1] + dz * ant[2] + 4.0 * s["sagitta"] * f * (1.0 - f)
            half_w = 0.5 * s["width"] * (1.0 - 0.7 * f)
            half_d = 0.5 * s["depth"] * (1.0 - 0.55 * f)
            body_hw = 0.5 * s["body_width"]
            # The alae start lower than the S1 endplate, the more so toward the joints.
            start = np.where(np.abs(X) < body_hw, 0.0,
                             s["ala_drop"] * np.clip((np.abs(X) - body_hw) / (0.5 * s["width"] - body_hw), 0, 1))
            ellipse = (X / half_w) ** 2 + (front / half_d) ** 2
            inside = (along > start) & (along < s["height"]) & (ellipse < 1.0)
            c = s["cortex"]
            core = ((along > start + c) & (along < s["height"] - c)
                    & (((np.abs(X) + c) / half_w) ** 2 + ((np.abs(front) + c) / half_d) ** 2 < 1.0))
            sl[body & inside] = Label.TRUNK_BONE
            sl[body & inside & core] = Label.TRUNK_MARROW
        # Iliac wings: a curved blade from the sacroiliac joint out to the anterior superior spine;
        # the crest is highest at the L4-L5 level in its middle and lower at both spines.
        if z_crest - 130.0 < z < z_crest:
            t = _num("iliac_wing_thickness_mm") / 2
            asis = _num("iliac_asis_x_mm")
            # The blades flare outward as they rise, from the acetabular roof to the crest.
            flare = 0.55 + 0.45 * np.clip((z - (z_crest - 130.0)) / 130.0, 0.0, 1.0)
            for side in (1.0, -1.0):
                cx, cy, rx, ry = side * 45.0, yc + 70.0, (asis - 45.0) * flare, 95.0
                u, v = (X - cx) / rx, (Y - cy) / ry
                r = np.sqrt(u * u + v * v)
                on_arc = (np.abs(r - 1.0) * min(rx, ry) < t) & (side * (X - cx) > 0) & (Y < cy)
                theta = np.arctan2(-v, side * u)  # 0 at the ASIS side, pi/2 at the back
                crest = z_crest - 45.0 * ((theta - 0.9) / 0.9) ** 2
                # The blade narrows down to the body of the ilium: its lower edge rises at both ends.
                low = z_crest - 125.0 + 70.0 * ((theta - 0.9) / 0.9) ** 2
                sl[body & on_arc & (z < crest) & (z > low)] = Label.TRUNK_BONE


@lru_cache(maxsize=4)
def _tips(level: str) -> tuple[np.ndarray, np.ndarray]:

    _, marks = vertebra_shape(morphometry(level), lower_joints(level))
    tips = {}
    for prim in marks.primitives:
        if prim.part == "transverse":
            tips[prim.side] = np.asarray(prim.shape.b, float)
    return tips[0], tips[1]


#: Mesh kinds of the trunk, the labels each is made of, and what the legend calls them.
MESH_KINDS: dict[str, tuple[tuple[Label, ...], str]] = {
    "rib": ((Label.TRUNK_BONE, Label.CARTILAGE), "Ribs, costal cartilages and sternum"),
    "pelvis": ((Label.TRUNK_BONE, Label.TRUNK_MARROW), "Sacrum and pelvis"),
    "lung": ((Label.LUNG,), "Lungs"),
    "vessel": ((Label.BLOOD,), "Heart, aorta and vena cava"),
    "organ": ((Label.ORGAN,), "Liver, stomach and kidneys"),
}


def trunk_meshes(torso, spacing_mm: float = 3.0) -> dict[str, "pv.PolyData"]:
    """Closed surfaces of the trunk's structures (``MESH_KINDS``) inside ``torso``, patient mm.

    The trunk is painted on a coarse grid padded with empty voxels, each kind's mask smoothed
    by a one-voxel Gaussian and contoured at one half, so every surface is closed.
    """
    import pyvista as pv
    from scipy import ndimage

    lo, hi = torso.bounds()
    lo, hi = np.asarray(lo) - 2 * spacing_mm, np.asarray(hi) + 2 * spacing_mm
    xs, ys, zs = (np.arange(a, b + spacing_mm, spacing_mm) for a, b in zip(lo, hi))
    X, Y, Z = np.meshgrid(xs, ys, zs, indexing="ij")
    inside = torso.distance(np.stack([X, Y, Z], axis=-1)) < -3.0
    labels = np.where(inside, Label.SOFT_TISSUE, Label.AIR).astype(np.uint8)
    trunk = Trunk(torso)
    trunk.paint(labels, xs, ys, zs)
    out = {}
    z_split = trunk.z["L4"]  # ribs above, sacrum and iliac wings (crests at L4-L5) below
    for kind, (wanted, _) in MESH_KINDS.items():
        mask = np.isin(labels, wanted)
        if kind == "rib":
            mask &= (zs > z_split)[None, None, :]
        elif kind == "pelvis":
            mask &= (zs <= z_split)[None, None, :]
        mask = mask.astype(np.float32)
        if mask.sum() < 8:
            continue
        field = ndimage.gaussian_filter(mask, 1.0)
        field[[0, -1], :, :] = field[:, [0, -1], :] = field[:, :, [0, -1]] = 0.0
        grid = pv.ImageData(dimensions=field.shape, spacing=(spacing_mm,) * 3, origin=(xs[0], ys[0], zs[0]))
        grid.point_data["m"] = field.ravel(order="F")
        surface = grid.contour([0.5], scalars="m").triangulate().clean()
        if surface.n_points:
            out[kind] = surface
    return out
