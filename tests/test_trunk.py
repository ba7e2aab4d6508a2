"""The body around the spine: ribs, lungs, organs, great vessels, muscles and pelvis are in the
density volume where anatomy puts them, show on fluoroscopy, and the needle names them."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.anatomy import attenuation
from vp3d.anatomy import build_spine
from vp3d.anatomy.trunk import Trunk, body_table
from vp3d.fluoro import CArm, Fluoroscope
from vp3d.anatomy.volume import Label

from tests.volume_regions import label_at, surround_outside


@pytest.fixture(scope="module")
def thorax():
    spine = build_spine("T7", "T9")
    return spine, Trunk(spine.skin.shape), spine.density_volume(spacing_mm=1.5)


@pytest.fixture(scope="module")
def abdomen():
    spine = build_spine("T12", "L2")
    return spine, Trunk(spine.skin.shape), spine.density_volume(spacing_mm=1.5)


@pytest.fixture(scope="module")
def pelvis():
    spine = build_spine("L4", "L5")
    return spine, Trunk(spine.skin.shape), spine.density_volume(spacing_mm=1.5)


def test_every_body_figure_has_a_source():
    table = body_table()
    assert len(table) >= 30
    for name, (value, unit, source) in table.items():
        assert value and unit and len(source) > 20, name
        assert "?" not in source, name


def test_lungs_heart_aorta_and_ribs_in_the_thorax(thorax):
    spine, trunk, vol = thorax
    z8, yc = trunk.z["T8"], float(trunk.centre_y(trunk.z["T8"]))
    for side in (1.0, -1.0):
        assert label_at(vol, (side * 80.0, yc + 30.0, z8)) == Label.LUNG
    s = vol.surround
    lung = s.mu_per_mm[(s.labels == Label.LUNG) & surround_outside(vol)]  # beyond the band where the two blend
    assert lung.size and np.allclose(lung, attenuation.mu_per_mm("lung_inflated"))
    assert attenuation.mu_per_mm("lung_inflated") < 0.3 * attenuation.mu_per_mm("soft_tissue")  # 0.26 g/cm3
    # The descending thoracic aorta to the left of the bodies, the heart in front.
    hw, hd = float(trunk.half_width(z8)), float(trunk.half_depth(z8))
    assert label_at(vol, (-(hw + 2.0), yc + 0.55 * hd, z8)) == Label.BLOOD
    assert label_at(vol, (-20.0, yc + hd + 70.0, trunk.z["T8"])) == Label.BLOOD
    # Twelve pairs of ribs; each T8 rib runs from beside the body out past the transverse process.
    assert len(trunk.ribs) == 12 * 2 * 14
    mid = trunk.ribs[7 * 2 * 14 + 3]  # T8, right side, a segment beyond the tubercle
    point = 0.5 * (mid.a + mid.b)
    assert label_at(vol, point) == Label.TRUNK_BONE
    front = trunk.ribs[7 * 2 * 14 + 12]  # its front end: costal cartilage
    assert front.cartilage and label_at(vol, 0.5 * (front.a + front.b)) == Label.CARTILAGE
    assert all(not c.cartilage for c in trunk.ribs[10 * 2 * 14:])  # ribs 11 and 12 end free
    # The sternum in the front chest wall on the midline at T8.
    back = float(spine.skin.shape.back_y(z8))
    y_front = back + spine.skin.shape.depth_mm - float(body_table()["chest_wall_mm"][0]) - 8.0
    assert label_at(vol, (0.0, y_front, z8)) == Label.TRUNK_BONE


def test_organs_vessels_and_muscles_in_the_abdomen(abdomen):
    spine, trunk, vol = abdomen
    z1, z2 = trunk.z["L1"], trunk.z["L2"]
    yc = float(trunk.centre_y(z1))
    kx = float(body_table()["kidney_center_x_mm"][0])
    assert label_at(vol, (-kx, yc - 5.0, z1)) == Label.ORGAN  # left kidney at L1
    assert label_at(vol, (-kx - 27.0 - 6.0, yc - 5.0, z1)) == Label.FAT  # in its perirenal fat
    y_ant = float(trunk.centre_y(z2) + trunk.half_depth(z2))
    assert label_at(vol, (-12.0, y_ant + 12.0, z2)) == Label.BLOOD  # abdominal aorta, left
    assert label_at(vol, (22.0, y_ant + 15.0, z2)) == Label.BLOOD  # inferior vena cava, right
    hw = float(trunk.half_width(z2))
    assert label_at(vol, (hw + 10.0, float(trunk.centre_y(z2)), z2)) == Label.MUSCLE  # psoas
    assert label_at(vol, (35.0, float(trunk.centre_y(z1)) - 45.0, z1)) == Label.MUSCLE  # erector spinae
    assert label_at(vol, (60.0, yc + 60.0, trunk.z["T12"] + 40.0)) in (Label.ORGAN, Label.LUNG)  # liver / lung base
    assert label_at(vol, (-95.0, yc + 5.0, trunk.z["T11"] - 10.0)) == Label.ORGAN  # spleen, left
    assert (vol.surround.labels == Label.GAS).any()  # bowel gas, reproducible
    again = build_spine("T12", "L2").density_volume(spacing_mm=1.5)
    assert np.array_equal(again.surround.labels == Label.GAS, vol.surround.labels == Label.GAS)


def test_sacrum_and_iliac_crests_at_the_lumbosacral_levels(pelvis):
    spine, trunk, vol = pelvis
    s = trunk.sacrum
    assert label_at(vol, s["top"] + 20.0 * s["down"]) == Label.TRUNK_MARROW  # S1 below L5
    down_axis = [label_at(vol, s["top"] + t * s["down"]) for t in np.arange(-4.0, 20.0, 0.5)]
    first_bone = next(i for i, lab in enumerate(down_axis) if lab in (Label.TRUNK_BONE, Label.TRUNK_MARROW))
    assert down_axis[first_bone] == Label.TRUNK_BONE  # its endplate's cortex, then marrow
    crest = trunk.disc_z("L4", "L5")
    yc = float(trunk.centre_y(crest))
    hits = [label_at(vol, (x, y, crest - 25.0)) == Label.TRUNK_BONE
            for x in np.arange(60.0, 115.0, 1.5) for y in np.arange(yc - 30.0, yc + 60.0, 1.5)]
    assert any(hits)  # an iliac wing beside L5, below a crest at the L4-L5 level
    above = [label_at(vol, (x, y, crest + 15.0)) == Label.TRUNK_BONE
             for x in np.arange(60.0, 115.0, 3.0) for y in np.arange(yc - 30.0, yc + 60.0, 3.0)]
    assert not any(above)
    # No body structure above the diaphragm here, none in the lumbar box.
    assert not (vol.labels == Label.LUNG).any()


def test_lung_fields_pass_more_x_rays_than_the_abdomen(thorax, abdomen):
    """AP line integrals beside the spine: lower through the lungs at T8 than through the
    abdomen at L1 (the display shows air-filled lung bright, as the C-arm shows bone dark)."""
    sums = {}
    for name, (spine, trunk, vol) in {"T8": thorax, "L1": abdomen}.items():
        centre = spine.vertebrae[name].transform[:3, 3]
        carm = CArm.ap(centre, rows=96, cols=96)
        lines = Fluoroscope(vol).anatomy_line_integrals(carm)
        band = lines[36:60, :]
        sums[name] = np.mean(np.concatenate([band[:, 8:20], band[:, -20:-8]], axis=1))
    assert sums["T8"] < 0.8 * sums["L1"], sums


def test_trunk_meshes_are_closed_and_where_the_body_is():
    from vp3d.anatomy.trunk import MESH_KINDS, trunk_meshes
    from vp3d.geometry.contour import is_closed_manifold

    spine = build_spine("T10", "L5")
    trunk = Trunk(spine.skin.shape)
    meshes = trunk_meshes(spine.skin.shape)
    assert set(meshes) == set(MESH_KINDS)
    for kind, mesh in meshes.items():
        assert mesh.n_cells > 100 and is_closed_manifold(mesh), kind
    lung, ribs, pelvis = meshes["lung"].bounds, meshes["rib"].bounds, meshes["pelvis"].bounds
    assert lung[4] > trunk.z["L1"] and lung[0] < -80 and lung[1] > 80  # both lungs, above L1
    assert ribs[1] - ribs[0] > 200 and ribs[4] > trunk.z["L4"]  # the cage, wide, above L4
    assert pelvis[4] < trunk.z["L5"] - 30 and pelvis[5] < trunk.z["L3"]  # below L5, crests under L3


def test_the_sac_is_covered_from_behind_by_bone_or_ligament():
    """Rays from behind near the midline, between the top and bottom laminae of the range, meet
    a lamina, a spinous process or a ligament (flavum, interspinous) before the thecal sac."""
    spine = build_spine("T10", "L5")
    top, bottom = spine.vertebrae[spine.levels[0]], spine.vertebrae[spine.levels[-1]]
    z_top = (top.transform[:3, :3] @ top.landmarks.lamina_top_mm + top.transform[:3, 3])[2]
    z_bottom = (bottom.transform[:3, :3] @ bottom.landmarks.lamina_bottom_mm + bottom.transform[:3, 3])[2]
    cover = [*spine.vertebrae.values(), *spine.ligaments]
    ys = np.arange(-160.0, 40.0, 0.5)
    first_hits = []
    for x in (-6.0, -3.0, 0.0, 3.0, 6.0):
        for z in np.arange(z_bottom + 1.0, z_top - 1.0, 2.0):
            pts = np.stack([np.full_like(ys, x), ys, np.full_like(ys, z)], axis=-1)
            sac = spine.cord.distance_patient(pts) < 0
            if not sac.any():
                continue
            y_sac = ys[np.argmax(sac)]
            y_cover = min((ys[np.argmax(d)] for d in (p.distance_patient(pts) < 0 for p in cover) if d.any()),
                          default=np.inf)
            first_hits.append(y_cover < y_sac)
    assert len(first_hits) > 300
    assert np.mean(first_hits) > 0.97, np.mean(first_hits)
    assert spine.ligaments and all(lig.mesh.n_cells > 0 for lig in spine.ligaments)
    from vp3d.geometry.contour import is_closed_manifold

    assert is_closed_manifold(spine.ligaments[0].mesh)


def test_no_seam_where_the_fine_box_meets_the_trunk():
    """AP line integrals cross the fine box's faces without a step: the two volumes blend."""
    spine = build_spine("L1", "L1")
    vol = spine.density_volume(spacing_mm=1.0)
    carm = CArm.ap(spine.vertebrae["L1"].transform[:3, 3], rows=256, cols=256)
    lines = Fluoroscope(vol).anatomy_line_integrals(carm)
    across = np.abs(np.diff(lines[100:156].mean(axis=0), 2))  # left-right profile, mid-body
    assert np.r_[across[:80], across[-80:]].max() < 0.035  # the side faces (0.068 unblended)
    for band in (slice(30, 70), slice(186, 226)):  # head-foot profiles beside the spine
        along = np.abs(np.diff(lines[:, band].mean(axis=1), 2))
        assert along[5:-5].max() < 0.07  # the top and bottom faces (0.09 unblended)


@pytest.mark.parametrize("level", ["T5", "L5"])
def test_the_body_fills_the_field_at_either_end(level):
    """No end of the trunk shows: every AP ray in the field crosses body (lung counts)."""
    spine = build_spine(level, level)
    vol = spine.density_volume(spacing_mm=2.0)
    carm = CArm.ap(spine.vertebrae[level].transform[:3, 3], rows=64, cols=64)
    lines = Fluoroscope(vol).anatomy_line_integrals(carm)
    assert lines[carm.field_radius_px() <= 1.0].min() > 1.0  # air alone gives about 0


def test_range_compression_keeps_the_lung_fields_off_white(thorax):
    """The thoracic AP image keeps its lung fields below white with the default chain, and
    local detail (ribs) stays: without range compression a tenth of the field burns out."""
    from vp3d.fluoro.imaging import Display

    spine, trunk, vol = thorax
    carm = CArm.ap(spine.vertebrae["T8"].transform[:3, 3], rows=128, cols=128)
    plain, compressed = (Fluoroscope(vol, display=Display(range_compression=rc)).radiograph(carm, noise_seed=None)
                         for rc in (0.0, Display().range_compression))
    field = plain.field_mask
    assert (plain.image[field] >= 250).mean() > 0.05
    assert (compressed.image[field] >= 250).mean() < 0.01
    # The needle-free anatomy still spans the grey range, spine darker than lungs.
    img = compressed.image.astype(float)
    assert img[field].std() > 15.0
    assert img[40:88, 60:68].mean() < img[40:88, 8:20].mean() - 20.0


def test_thoracic_laminae_overlap_like_tiles():
    """Between T6 and T9, rays from behind beside the spinous processes meet bone (a lamina
    reaching down over the next) before the sac almost everywhere; the lumbar spine keeps its
    interlaminar windows, closed by the ligamenta flava only."""

    def bone_first(spine) -> float:
        levels = spine.levels
        top, bottom = spine.vertebrae[levels[0]], spine.vertebrae[levels[-1]]
        z_top = (top.transform[:3, :3] @ top.landmarks.lamina_top_mm + top.transform[:3, 3])[2]
        z_low = bottom.transform[2, 3]
        ys = np.arange(-160.0, 40.0, 0.5)
        hits = []
        for x in (-5.0, -3.0, 3.0, 5.0):
            for z in np.arange(z_low, z_top - 1.0, 1.5):
                pts = np.stack([np.full_like(ys, x), ys, np.full_like(ys, z)], axis=-1)
                sac = spine.cord.distance_patient(pts) < 0
                if not sac.any():
                    continue
                bone = [d for d in (v.distance_patient(pts) < 0 for v in spine.vertebrae.values()) if d.any()]
                hits.append(bool(bone) and min(ys[np.argmax(d)] for d in bone) < ys[np.argmax(sac)])
        return float(np.mean(hits))

    assert bone_first(build_spine("T6", "T9")) > 0.95
    assert bone_first(build_spine("L2", "L4")) < 0.85
