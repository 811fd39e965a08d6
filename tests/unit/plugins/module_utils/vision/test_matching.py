# -*- coding: utf-8 -*-
"""The image matching's own rules: the pixel convention, what is never matched, how targets are picked, and
that a head patch is found again in a picture that is a known warp of it. (Against the twin's pictures and
its truth: tests/integration/test_calibration_capture.py and `make bench`.)"""

from __future__ import annotations

import math

import pytest

cv2 = pytest.importorskip("cv2")
np = pytest.importorskip("numpy")

# pylint: disable=wrong-import-position
from ansible_collections.vapix.q6000.plugins.module_utils.vision import matching as vision  # noqa: E402


def texture(width=960, height=540, seed=3):
    """Random blobs at several scales: detail everywhere, nothing repeated."""
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width), np.float32)
    for size in (3, 7, 17, 41):
        noise = rng.random((height // size + 2, width // size + 2)).astype(np.float32)
        image += cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) * size
    image = (image - image.min()) / (image.max() - image.min()) * 230 + 10
    return image.astype(np.uint8)


@pytest.mark.parametrize("x, y, width, height, u, v", [
    (-1.0, 1.0, 1920, 1080, -0.5, -0.5), (0.0, 0.0, 1920, 1080, 959.5, 539.5), (1.0, -1.0, 640, 360, 639.5, 359.5)])
def test_normalized_and_opencv_pixels_follow_the_edge_convention(x, y, width, height, u, v):
    assert vision.to_pixel(x, y, width, height) == pytest.approx((u, v))
    assert vision.to_normal(u, v, width, height) == pytest.approx((x, y))


def test_what_changes_between_two_pictures_is_masked():
    first = texture()
    second = first.copy()
    cv2.putText(second, "12:00:01", (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 255, 2)
    mask = vision.changed_mask(first, second)
    assert mask[30, 60] == 255
    assert mask[400, 800] == 0


def test_targets_keep_clear_of_the_mask_and_of_each_other():
    image = texture()
    mask = np.zeros_like(image)
    mask[:120, :320] = 255
    head = vision.HeadPicture(image, mask)
    picked = vision.pick_targets(head, 6, 90, spread=0.3)
    assert len(picked) == 6
    for x, y in picked:
        u, v = vision.to_pixel(x, y, head.width, head.height)
        assert not head.excluded_at(u, v, 90)
    for i, (x, y) in enumerate(picked):
        assert all(math.hypot(x - a, y - b) >= 0.3 for a, b in picked[:i])


def test_a_flat_picture_has_no_targets():
    head = vision.HeadPicture(np.full((540, 960), 128, np.uint8))
    assert vision.pick_targets(head, 5, 50, spread=0.3) == []
    # A target given anyway is refused with the reason, never a traceback.
    with pytest.raises(vision.TargetError, match="too little detail"):
        vision.locate(head, 0.0, 0.0, texture(), 50)


def test_a_patch_is_found_again_in_a_rotated_scaled_view():
    image = texture()
    head = vision.HeadPicture(image)
    # The "PTZ" sees the head's picture rotated by 20 degrees and scaled by 1.4 about a point.
    rotation = cv2.getRotationMatrix2D((480.0, 270.0), 20.0, 1.4)
    mapping = np.vstack([rotation, [0, 0, 1]])
    ptz = cv2.warpPerspective(image, mapping, (960, 540), flags=cv2.INTER_LINEAR)
    x, y = 0.1, -0.05
    u, v = vision.to_pixel(x, y, head.width, head.height)
    expected = cv2.perspectiveTransform(np.float32([[[u, v]]]), mapping)[0, 0]
    match = vision.locate(head, x, y, ptz, 100)
    assert math.hypot(match.u - expected[0], match.v - expected[1]) < 0.3
    assert match.scale == pytest.approx(1.4, abs=0.02)
    # From a rough guess of the mapping (a few pixels off), follow() lands on the same place.
    rough = np.array([[1, 0, 6.0], [0, 1, -4.0], [0, 0, 1]]) @ mapping
    followed = vision.follow(head, x, y, ptz, 60, rough)
    assert math.hypot(followed.u - expected[0], followed.v - expected[1]) < 0.3


@pytest.mark.parametrize("off", [(45.0, -10.0), (-38.0, -55.0), (17.5, 3.0)])
def test_a_click_that_landed_wide_of_its_aim_is_still_followed(off):
    """A click lands only about where it was aimed, and an areazoom multiplies the miss: the content may lie
    beyond the first search around where it was expected (40 to 60 pixels away on the twin's PTZ)."""
    image = texture()
    head = vision.HeadPicture(image)
    mapping = np.vstack([cv2.getRotationMatrix2D((480.0, 270.0), 0.0, 1.5), [0, 0, 1]])
    ptz = cv2.warpPerspective(image, mapping, (960, 540), flags=cv2.INTER_LINEAR)
    x, y = 0.05, 0.1
    u, v = vision.to_pixel(x, y, head.width, head.height)
    expected = cv2.perspectiveTransform(np.float32([[[u, v]]]), mapping)[0, 0]
    aimed = np.array([[1, 0, off[0]], [0, 1, off[1]], [0, 0, 1]]) @ mapping
    followed = vision.follow(head, x, y, ptz, 60, aimed)
    assert math.hypot(followed.u - expected[0], followed.v - expected[1]) < 0.3


def test_a_patch_that_is_not_in_the_picture_is_refused_after_the_wider_search():
    """The wider search looks farther, not more leniently: content the PTZ does not see is still refused."""
    head = vision.HeadPicture(texture())
    elsewhere = texture(seed=11)
    with pytest.raises(vision.TargetError, match="does not correlate|not found"):
        vision.follow(head, 0.05, 0.1, elsewhere, 60, np.vstack([cv2.getRotationMatrix2D((480.0, 270.0), 0.0, 1.5),
                                                                 [0, 0, 1]]))


def test_a_pattern_that_repeats_is_refused():
    """A facade's windows: the patch correlates as well one period away as where it is."""
    tile = texture(14, 14, seed=5)
    image = np.tile(tile, (40, 70))[:540, :960]
    head = vision.HeadPicture(image)
    rough = np.array([[1, 0, -5.0], [0, 1, 0.0], [0, 0, 1]])
    with pytest.raises(vision.TargetError, match="repetitive"):
        vision.follow(head, 0.0, 0.0, image, 60, rough)


def test_a_thumbnail_is_the_head_patch_beside_the_ptz_centre_and_stays_small():
    head_image = texture()
    ptz_image = np.full((360, 640), 30, np.uint8)
    ptz_image[170:190, 310:330] = 250  # a bright square at the PTZ picture's centre
    jpeg = vision.thumbnail(vision.HeadPicture(head_image), -0.5, 0.5, 50, ptz_image, 60, side=64)
    assert len(jpeg) < 4000
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (64, 130, 3)
    right = cv2.cvtColor(picture[:, 66:], cv2.COLOR_BGR2GRAY)
    assert right[28:31, 28:31].mean() > 150 and right[5:15, 5:15].mean() < 60
    # The left half is the head's patch around pixel (-0.5, 0.5): (240, 135) in the head's picture.
    u, v = vision.to_pixel(-0.5, 0.5, 960, 540)
    expected = cv2.resize(head_image[int(v) - 50:int(v) + 50, int(u) - 50:int(u) + 50], (64, 64),
                          interpolation=cv2.INTER_AREA).astype(float)
    left = cv2.cvtColor(picture[:, :64], cv2.COLOR_BGR2GRAY).astype(float)
    assert np.corrcoef(left[:20].ravel(), expected[:20].ravel())[0, 1] > 0.9
