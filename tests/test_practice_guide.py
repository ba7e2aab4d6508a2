"""The practice guide is data (scenes/practice.yaml): its text, references, camera and
visibility load strictly, and a bad file is one line naming the file and the field."""

from __future__ import annotations

import pytest

from vp3d.practice.guide import GUIDE_PATH, GuideError, load_guide, practice_guide
from vp3d.storyboard.scene import PART_GROUPS


def test_the_packaged_guide_loads_with_its_references():
    guide = practice_guide()
    assert guide.title == "Transpedicular needle practice" and len(guide.steps) >= 5
    assert guide.sources[0].startswith("Mathis")
    assert any(s.startswith("Belkoff") for s in guide.sources)
    for step in guide.steps:  # every number in the text has a reference beside it
        if any(ch.isdigit() for ch in step.text):
            assert step.sources, step.text
    belkoff = next(s for s in guide.steps if "2 mL" in s.text)
    assert guide.marks(belkoff) == "\u00b3" and "Spine 2001;26(14):1537-1541" in guide.citation(belkoff.sources[0])
    assert all(part in PART_GROUPS for part in guide.visible)


def test_camera_mirrors_for_a_left_needle_and_visibility_changes_once_in():
    guide = practice_guide()
    right, left = guide.camera("right"), guide.camera("left")
    assert right.position_mm[0] > 100 and left.position_mm[0] == -right.position_mm[0]
    assert left.position_mm[1:] == right.position_mm[1:] and left.focal_mm[1:] == right.focal_mm[1:]
    assert guide.visibility(needle_in=False)["skin"] == "translucent"
    assert guide.visibility(needle_in=False)["level"] == "highlighted"
    assert guide.visibility(needle_in=True)["level"] == "translucent"


@pytest.mark.parametrize("change, message", [
    (("title: Transpedicular needle practice", "titel: x"), r"^\S+: titel: unknown key 'titel'"),
    (("skin: translucent", "skin: glowing"), r"visible\.skin: unknown mode 'glowing' for 'skin'"),
    (("  cord: shown", "  spleen: shown"), r"visible\.spleen: unknown part name 'spleen'"),
    (('sources: ["Belkoff et al., Spine 2001"]', "sources: [Belkoff 2001]"),
     r"steps\[5\]\.sources\[0\]: unknown source 'Belkoff 2001'"),
    (("position_mm: [300, -190, 150]", "position_mm: [300, -190]"), r"camera\.position_mm: must be 3 numbers"),
    (("practice: needle", "practice: cement"), r"practice: must be 'needle'"),
    (("  lungs: hidden\n", ""), r"visible: name every part group, so none is shown by default; missing: lungs"),
    (("  - text: >-\n      Aim on", "  - txt: >-\n      Aim on"), r"steps\[0\]\.txt: unknown key 'txt'"),
    (("title: Transpedicular", "title: [Transpedicular"), r"malformed YAML"),
])
def test_a_bad_guide_is_one_line_naming_the_field(tmp_path, change, message):
    text = GUIDE_PATH.read_text()
    assert change[0] in text
    bad = tmp_path / "practice.yaml"
    bad.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(GuideError, match=message) as error:
        load_guide(bad)
    assert "\n" not in str(error.value) and str(error.value).startswith(f"{bad}: ")
