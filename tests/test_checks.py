"""The one value checker (vp3d.checks) and the level names (vp3d.levels)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vp3d.checks import (
    AUDIENCE_MODES,
    BONE_QUALITIES,
    KINDS,
    PROCEDURES,
    ChoiceError,
    check_audience,
    check_bone_quality,
    check_grade,
    check_kind,
    check_level,
    check_option,
    check_procedure,
    check_procedure_level,
    in_words,
    level_range,
)
from vp3d.levels import LEVELS, PROCEDURE_LEVELS, describe_level, level_in_words, ordinal_number, span


def test_words_not_tuples():
    assert in_words(("wedge", "biconcave", "crush")) == "wedge, biconcave or crush"
    assert in_words(("normal", "osteoporotic")) == "normal or osteoporotic"
    assert in_words(("only",)) == "only"
    assert span(PROCEDURE_LEVELS) == "T5\u2013L5" and span(LEVELS) == "T1\u2013L5"


@pytest.mark.parametrize("check, options", [
    (check_kind, KINDS), (check_procedure, PROCEDURES), (check_audience, AUDIENCE_MODES),
    (check_bone_quality, BONE_QUALITIES),
])
def test_every_option_reads_any_case_and_spacing_alike(check, options):
    for option in options:
        for written in (option, option.upper(), option.capitalize(), f"  {option} "):
            assert check(written) == option


@pytest.mark.parametrize("check, bad, words", [
    (check_kind, "burst", "fracture type must be one of wedge, biconcave or crush, got 'burst'"),
    (check_procedure, "fusion", "procedure must be one of vertebroplasty or kyphoplasty, got 'fusion'"),
    (check_audience, "surgeon", "audience must be one of patient, student or kiosk, got 'surgeon'"),
    (check_bone_quality, "soft", "bone quality must be one of normal or osteoporotic, got 'soft'"),
    (check_kind, None, "got None"), (check_kind, ["wedge"], "got ['wedge']"), (check_kind, True, "got True"),
    (check_kind, "x" * 500, "\u2026"),
])
def test_bad_options_are_one_line_choice_errors(check, bad, words):
    with pytest.raises(ChoiceError) as err:
        check(bad)
    text = str(err.value)
    assert isinstance(err.value, ValueError) and words in text and "\n" not in text and len(text) < 200


def test_grade_from_numbers_and_text():
    for value in (2, "2", " 2 ", 2.0, "2.0", np.int64(2)):
        assert check_grade(value) == 2 and type(check_grade(value)) is int
    for value in (0, 4, "x", "", True, None, math.nan, "nan", 2.5, [2], {"g": 2}, "1e9"):
        with pytest.raises(ChoiceError, match="fracture grade must be 1, 2 or 3"):
            check_grade(value)


def test_levels_any_case_and_one_range_with_its_reason():
    assert check_level("l1") == "L1" and check_level(" t12 ") == "T12"
    with pytest.raises(ChoiceError, match="level must be one of T1\u2013L5, got 'L7'"):
        check_level("L7")
    assert check_procedure_level("t5") == "T5"
    with pytest.raises(ChoiceError) as err:
        check_procedure_level("T4")
    assert str(err.value) == ("level must be one of T5\u2013L5 (the procedure is modelled from T5 down: the "
                              "upper thoracic pedicles are too small for the needles), got 'T4'")
    for bad in (None, 1, ["L1"], True):
        with pytest.raises(ChoiceError, match="level must be one of"):
            check_level(bad)


def test_level_range():
    assert level_range("t12", "L2") == ["T12", "L1", "L2"]
    with pytest.raises(ChoiceError, match="must be cranial to"):
        level_range("L2", "T12")


def test_check_option_keeps_the_options_spelling():
    assert check_option("view", "AP", ("AP", "lateral")) == "AP"


def test_level_names():
    assert level_in_words("L1") == "first lumbar vertebra" and level_in_words("T12") == "twelfth thoracic vertebra"
    assert describe_level("L1") == "1st lumbar vertebra" and describe_level("T11") == "11th thoracic vertebra"
    assert describe_level("T2") == "2nd thoracic vertebra" and describe_level("x") == "x"
    assert [ordinal_number(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]
