"""Slide properties read through OpenSlide from real slides, and the honest handling of missing mpp / power."""

from __future__ import annotations

import pytest

from pathkg.wsi.slide_file import opened_slide
from pathkg.wsi.slide_properties import magnification_from_mpp, property_flags, read_properties
from tests.wsi.slide_builders import canvas, paint, write_pyramid


def test_cmu_slide_properties(cmu_slide):
    with opened_slide(cmu_slide) as slide:
        props = read_properties(slide)
    assert props.vendor == "aperio"
    assert props.level_count == 1
    assert [(lv.width, lv.height, lv.downsample) for lv in props.levels] == [(2220, 2967, 1.0)]
    assert (props.width, props.height) == (2220, 2967)
    assert props.mpp_x == pytest.approx(0.499) and props.mpp_y == pytest.approx(0.499)
    assert props.objective_power == 20.0
    assert props.base_magnification == 20.0 and props.magnification_source == "objective_power"
    assert props.missing == []
    assert {(a.name, a.width, a.height) for a in props.associated_images} == {
        ("label", 387, 463),
        ("macro", 1280, 431),
        ("thumbnail", 574, 768),
    }
    assert property_flags(props) == []


def test_tcga_slide_without_mpp_or_power_says_so_and_invents_nothing(tcga_slide):
    with opened_slide(tcga_slide) as slide:
        props = read_properties(slide)
    assert props.vendor == "aperio"
    assert [(lv.level, lv.width, lv.height) for lv in props.levels] == [(0, 4443, 3567), (1, 2221, 1783)]
    assert props.levels[1].downsample == pytest.approx(2.0005, abs=1e-4)
    assert props.mpp_x is None and props.mpp_y is None and props.objective_power is None
    assert props.base_magnification is None and props.magnification_source is None
    assert props.missing == ["mpp", "objective_power"]
    assert [a.name for a in props.associated_images] == ["thumbnail"]
    assert property_flags(props) == ["mpp_missing", "objective_power_missing", "magnification_unknown"]


@pytest.mark.parametrize(
    ("mpp", "expected"),
    [(0.25, 40.0), (0.2520, 40.0), (0.499, 20.0), (1.0, 10.0), (2.0, 5.0), (0.37, None), (0.7, None)],
)
def test_magnification_from_mpp_snaps_only_near_a_standard_objective(mpp, expected):
    assert magnification_from_mpp(mpp) == expected


def test_magnification_derived_from_mpp_when_power_is_missing(tmp_path):
    path = write_pyramid(tmp_path / "mpp-only.tif", paint(canvas(1024, 768), (100, 100, 600, 500)), mpp=0.5)
    with opened_slide(path) as slide:
        props = read_properties(slide)
    assert props.vendor == "generic-tiff"
    assert props.mpp_x == pytest.approx(0.5)
    assert props.objective_power is None
    assert props.base_magnification == 20.0 and props.magnification_source == "mpp"
    assert property_flags(props) == ["objective_power_missing", "magnification_from_mpp"]


def test_nonstandard_mpp_without_power_leaves_magnification_unknown(tmp_path):
    path = write_pyramid(tmp_path / "odd.tif", canvas(512, 512), mpp=0.37)
    with opened_slide(path) as slide:
        props = read_properties(slide)
    assert props.mpp_x == pytest.approx(0.37)
    assert props.base_magnification is None
    assert "magnification_unknown" in property_flags(props)


def test_aperio_appmag_and_mpp_are_read(tmp_path):
    path = write_pyramid(tmp_path / "a.svs", canvas(1024, 768), aperio={"AppMag": "40", "MPP": "0.2520"})
    with opened_slide(path) as slide:
        props = read_properties(slide)
    assert props.vendor == "aperio"
    assert (props.objective_power, props.mpp_x, props.base_magnification) == (40.0, 0.252, 40.0)
    assert [(lv.width, lv.height) for lv in props.levels] == [(1024, 768), (256, 192)]
    assert property_flags(props) == []
