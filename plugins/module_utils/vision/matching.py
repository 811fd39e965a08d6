# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image matching between a head of the Q6000-E and its PTZ: where a head pixel's spot is in a PTZ picture.

A head and the PTZ see the same far scene from almost one point, so between a patch of a head picture and
the PTZ's picture the mapping is locally a homography (it carries the rotation, the scale and the skew that
differ between a wide head tilted down and the PTZ). It is found from SIFT features (at a common scale, so
that the PTZ's zoom does not defeat the descriptors) with MAGSAC, then refined by ECC, which maximises a
correlation that ignores gain and contrast differences between the two cameras. Refusals are explicit
(TargetError): too little detail, a repetitive pattern that matches in two places, a patch that does not
correlate after the fit.

numpy and OpenCV are imported here only, so the other modules run on a controller without them.
"""

from __future__ import annotations

import math
import traceback

try:
    import cv2
    import numpy as np
except ImportError:
    HAS_VISION = False
    VISION_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_VISION = True
    VISION_IMPORT_ERROR = None
    # One thread per Ansible worker: OpenCV's own pool would fight the forks for the cores.
    cv2.setNumThreads(1)

from ansible_collections.vapix.q6000.plugins.module_utils.errors import TargetError

MIN_FEATURES = 40  # SIFT keypoints a patch needs before it is worth matching
MIN_DISTINCT = 20  # of them, distinct ones (unlike any other keypoint of the picture) for a target to be picked
MIN_CONTRAST = 10.0  # grey levels of standard deviation right around a target pixel (sky has less)
DISTINCT = 1.0  # a keypoint whose nearest look-alike is closer than this times the median is a repeat
MIN_INLIERS = 12
COARSE_THRESHOLD = 8.0  # pixels at the matching scale: the lens and mixed depths bend a patch
CLOSE = 0.4  # share of the patch's radius over which the final fit is made, around the pixel itself
FINE_THRESHOLD = 3.0  # pixels at the matching scale, for the matches found near where the first mapping puts them
MIN_CORRELATION = 0.6  # ECC correlation of the patch with the PTZ picture after the fit
REPEAT_CORRELATION = 0.92  # a second correlation peak this close to the best one means a repetitive pattern
REPEAT_RATIO = 0.6  # a second consistent mapping with this share of the first's inliers means a repetitive pattern


def decode(jpeg):
    """A JPEG as a grey uint8 image."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise TargetError("the picture is not a JPEG that decodes")
    return image


def is_grey(jpeg, chroma=6.0):
    """Whether a JPEG has (almost) no colour: a camera in night mode, on IR. Colour is measured as the mean
    difference of blue and red from green, in grey levels: a saturation (a ratio) would call the noise of a dark
    grey picture colour."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return False
    image = image.astype(np.int16)
    return float(np.abs(image[..., 0] - image[..., 1]).mean() + np.abs(image[..., 2] - image[..., 1]).mean()) < chroma


def to_pixel(x, y, width, height):
    """Normalized (x, y) (y up, edge convention) as OpenCV pixel coordinates (centre of the first pixel at 0)."""
    return (x + 1.0) * width / 2.0 - 0.5, (1.0 - y) * height / 2.0 - 0.5


def to_normal(u, v, width, height):
    return 2.0 * (u + 0.5) / width - 1.0, 1.0 - 2.0 * (v + 0.5) / height


def changed_mask(first, second, grow=24):
    """Where two pictures of a head differ (a burned-in clock, traffic): a mask of what not to match. The first is
    aligned on the second before they are compared, so that a mast's sway, which turns the whole picture a little,
    does not mask everything that has an edge."""
    first = aligned(first, second)
    diff = cv2.absdiff(cv2.GaussianBlur(first, (5, 5), 0), cv2.GaussianBlur(second, (5, 5), 0))
    _t, mask = cv2.threshold(diff, 40, 255, cv2.THRESH_BINARY)
    if grow:
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1)))
    return mask


def same_view(first, second, scale=0.25, grey_levels=2.0, sharpness=0.85):
    """Whether two pictures taken a moment apart show one view, sharp alike: reduced copies differ by under
    `grey_levels` on average (what moves in the scene is small), and neither is much blurrier than the other."""
    if first.shape != second.shape:
        return False
    small = [cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for picture in (first, second)]
    if float(cv2.absdiff(small[0], small[1]).mean()) >= grey_levels:
        return False
    detail = sorted(float(cv2.Laplacian(picture, cv2.CV_32F).var()) for picture in (first, second))
    return detail[0] >= sharpness * detail[1]


def aligned(image, on, scale=0.25):
    """`image` turned and shifted onto `on` (a Euclidean motion found by ECC on reduced copies), or as it is
    when the two do not converge onto each other."""
    small = [cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(np.float32)
             for picture in (image, on)]
    warp = np.eye(2, 3, dtype=np.float32)
    try:
        _score, warp = cv2.findTransformECC(small[1], small[0], warp, cv2.MOTION_EUCLIDEAN,
                                            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4), None, 5)
    except cv2.error:
        return image
    warp[:, 2] /= scale
    if abs(warp[0, 2]) + abs(warp[1, 2]) < 0.05 and abs(warp[1, 0]) < 1e-5:
        return image
    return cv2.warpAffine(image, warp, (on.shape[1], on.shape[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def moved(reference, image, u, v, radius, least=0.1):
    """How far (pixels, OpenCV axes) the content around pixel (u, v) of `reference` moved in `image`: phase
    correlation of the two patches. None when they do not correlate (the patch changed rather than moved)."""
    height, width = reference.shape[:2]
    x0, x1 = int(max(0, u - radius)), int(min(width, u + radius + 1))
    y0, y1 = int(max(0, v - radius)), int(min(height, v + radius + 1))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    window = cv2.createHanningWindow((x1 - x0, y1 - y0), cv2.CV_32F)
    (du, dv), response = cv2.phaseCorrelate(np.float32(reference[y0:y1, x0:x1]), np.float32(image[y0:y1, x0:x1]),
                                            window)
    return (du, dv) if response >= least else None


_SIFT = []


def _sift():
    if not _SIFT:
        _SIFT.append(cv2.SIFT_create(nfeatures=3000, contrastThreshold=0.02))
    return _SIFT[0]


def features(image, mask=None):
    keypoints, descriptors = _sift().detectAndCompute(image, mask)
    return keypoints, descriptors


class HeadPicture:
    """A head's picture, its features and the mask of what must not be matched (overlay, border)."""

    def __init__(self, image, mask=None):
        self.image = image
        self.height, self.width = image.shape[:2]
        self.excluded = mask if mask is not None else np.zeros_like(image)
        self.keypoints, self.descriptors = features(image, cv2.bitwise_not(self.excluded))
        if self.descriptors is None:  # a flat picture: no keypoint at all
            self.descriptors = np.empty((0, 128), np.float32)
        self.points = np.float32([k.pt for k in self.keypoints]).reshape(-1, 2)
        self.distinct = self._distinct()

    def _distinct(self):
        """Per keypoint: whether no other keypoint of the picture looks like it (a window among windows does)."""
        if self.descriptors is None or len(self.keypoints) < 3:
            return np.zeros(len(self.keypoints), bool)
        nearest = np.array([pair[1].distance for pair in
                            cv2.BFMatcher(cv2.NORM_L2).knnMatch(self.descriptors, self.descriptors, k=2)])
        return nearest > DISTINCT * np.median(nearest)

    def detail(self, u, v, radius):
        """Distinct keypoints within `radius` pixels (a square) of (u, v)."""
        if not len(self.points):
            return 0
        near = (np.abs(self.points[:, 0] - u) <= radius) & (np.abs(self.points[:, 1] - v) <= radius)
        return int((near & self.distinct).sum())

    def contrast(self, u, v, radius):
        """Standard deviation of the grey values within `radius` of (u, v)."""
        x0, y0 = int(max(0, u - radius)), int(max(0, v - radius))
        window = self.image[y0:int(v + radius + 1), x0:int(u + radius + 1)]
        return float(window.std()) if window.size else 0.0

    def excluded_at(self, u, v, radius):
        x0, y0 = int(max(0, u - radius)), int(max(0, v - radius))
        x1, y1 = int(min(self.width, u + radius + 1)), int(min(self.height, v + radius + 1))
        if x1 <= x0 or y1 <= y0:
            return True
        return bool(self.excluded[y0:y1, x0:x1].any())

    def patch(self, u, v, radius):
        """(descriptors, points) of the keypoints within `radius` of (u, v)."""
        near = (np.abs(self.points[:, 0] - u) <= radius) & (np.abs(self.points[:, 1] - v) <= radius)
        index = np.flatnonzero(near)
        return self.descriptors[index], self.points[index]


def pick_targets(head, count, radius, spread, margin=0.12):
    """Up to `count` well-textured, well-spread pixels (normalized x, y) of `head`, best first.

    Candidates on a grid are ranked by the keypoints around them; a candidate whose patch touches the excluded
    mask (the overlay) is never taken; each next pick keeps at least `spread` (normalized) from the others.
    """
    candidates = []
    rows, columns = 15, 25
    for row in range(rows):
        y = (1.0 - margin * 2) * (1.0 - 2.0 * row / (rows - 1))
        for column in range(columns):
            x = (1.0 - margin) * (2.0 * column / (columns - 1) - 1.0)
            u, v = to_pixel(x, y, head.width, head.height)
            if head.excluded_at(u, v, radius):
                continue
            detail = head.detail(u, v, radius)
            # The pixel itself must see detail too, not sky beside a roof whose parallax then moves the match.
            if detail >= MIN_DISTINCT and head.detail(u, v, radius / 3.0) >= MIN_DISTINCT / 8.0 \
                    and head.contrast(u, v, radius / 8.0) >= MIN_CONTRAST:
                candidates.append((detail, round(x, 3), round(y, 3)))
    candidates.sort(key=lambda c: -c[0])
    chosen = []
    for candidate in candidates:
        if all(math.hypot(candidate[1] - c[1], candidate[2] - c[2]) >= spread for c in chosen):
            chosen.append(candidate)
    return [(x, y) for _detail, x, y in chosen[:count]]


def _homography(source, target, threshold):
    mapping, inliers = cv2.findHomography(source, target, cv2.USAC_MAGSAC, threshold, maxIters=4000,
                                          confidence=0.999)
    if mapping is None or inliers is None:
        return None, np.zeros(len(source), bool)
    return mapping, inliers.ravel().astype(bool)


def _guided(points, descriptors, keypoints, ptz_descriptors, mapping, reach):
    """Matches of the patch's keypoints among the PTZ keypoints within `reach` of where `mapping` puts them:
    the ratio test among neighbours only, so that a window of a facade is told from the next one."""
    where = np.float32([k.pt for k in keypoints])
    predicted = cv2.perspectiveTransform(points.reshape(-1, 1, 2), mapping).reshape(-1, 2)
    source, target = [], []
    for i, (pu, pv) in enumerate(predicted):
        near = np.flatnonzero((np.abs(where[:, 0] - pu) <= reach) & (np.abs(where[:, 1] - pv) <= reach))
        if not len(near):
            continue
        distances = np.linalg.norm(ptz_descriptors[near] - descriptors[i], axis=1)
        order = np.argsort(distances)
        if len(order) > 1 and distances[order[0]] >= 0.85 * distances[order[1]]:
            continue
        source.append(points[i])
        target.append(where[near[order[0]]])
    return np.float32(source).reshape(-1, 2), np.float32(target).reshape(-1, 2)


class Match:
    """Where a head pixel is in a PTZ picture: (u, v) in the PTZ picture's pixels, and how sure."""

    def __init__(self, u, v, scale, inliers, correlation, mapping):
        self.u, self.v, self.scale = u, v, scale
        self.inliers, self.correlation, self.mapping = inliers, correlation, mapping


def _locate(head, x, y, ptz_image, radius):
    """Find head pixel (x, y) (normalized) in `ptz_image`; raises TargetError with the reason when it cannot."""
    u, v = to_pixel(x, y, head.width, head.height)
    descriptors, points = head.patch(u, v, radius)
    if len(points) < MIN_FEATURES:
        raise TargetError("too little detail around the target (%d features)" % len(points))
    keypoints, ptz_descriptors = features(ptz_image)
    if ptz_descriptors is None or len(keypoints) < MIN_FEATURES:
        raise TargetError("the PTZ's picture has too little detail (%d features)" % len(keypoints))
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(descriptors, ptz_descriptors, k=2)
    good = [first for first, second in (p for p in pairs if len(p) == 2) if first.distance < 0.8 * second.distance]
    if len(good) < MIN_INLIERS:
        raise TargetError("the target's features were not found in the PTZ's picture (%d matches)" % len(good))
    source = np.float32([points[m.queryIdx] for m in good])
    target = np.float32([keypoints[m.trainIdx].pt for m in good])
    mapping, inliers = _homography(source, target, COARSE_THRESHOLD)
    count = int(inliers.sum())
    if mapping is None or count < MIN_INLIERS:
        raise TargetError("no consistent mapping of the target into the PTZ's picture (%d of %d matches agree)"
                          % (count, len(good)))
    rest = ~inliers
    if rest.sum() >= MIN_INLIERS:
        second, again = _homography(source[rest], target[rest], COARSE_THRESHOLD)
        if second is not None and again.sum() >= max(MIN_INLIERS, REPEAT_RATIO * count):
            # A second mapping that puts the target elsewhere is a repeat; one that puts it about the same place
            # is a layer at another depth.
            here = cv2.perspectiveTransform(np.float32([[[u, v]]]), mapping)[0, 0]
            there = cv2.perspectiveTransform(np.float32([[[u, v]]]), second)[0, 0]
            if np.linalg.norm(here - there) > 4 * COARSE_THRESHOLD:
                raise TargetError("a repetitive pattern: the target matches in two places of the PTZ's picture")
    source, target = _guided(points, descriptors, keypoints, ptz_descriptors, mapping, 2 * COARSE_THRESHOLD)
    if len(source) >= MIN_INLIERS:
        finer, inliers = _homography(source, target, FINE_THRESHOLD)
        if finer is not None and inliers.sum() >= max(MIN_INLIERS, count):
            mapping, count = finer, int(inliers.sum())
    if not _plausible(mapping, u, v):
        raise TargetError("no plausible mapping of the target into the PTZ's picture (mirrored or degenerate)")
    mapping, correlation = _refine(head.image, u, v, radius, ptz_image, mapping)
    if correlation < MIN_CORRELATION:
        raise TargetError("the target's patch does not correlate with the PTZ's picture (%.2f)" % correlation)
    pu, pv = cv2.perspectiveTransform(np.float32([[[u, v]]]), mapping)[0, 0]
    height, width = ptz_image.shape[:2]
    if not (0 <= pu < width and 0 <= pv < height):
        raise TargetError("the target is outside the PTZ's picture (its surroundings are in it)")
    scale = math.sqrt(abs(np.linalg.det(_jacobian(mapping, u, v))))
    return Match(float(pu), float(pv), scale, count, correlation, mapping)


def locate(head, x, y, ptz_image, radius):
    """See _locate; a numerical failure of OpenCV or numpy on odd pictures is a refused target too."""
    try:
        return _locate(head, x, y, ptz_image, radius)
    except (cv2.error, np.linalg.LinAlgError, ValueError) as exc:
        raise TargetError("the matching failed on these pictures (%s)" % _reason(exc))


def follow(head, x, y, ptz_image, radius, mapping):
    """See _follow; a numerical failure of OpenCV or numpy on odd pictures is a refused target too."""
    try:
        return _follow(head, x, y, ptz_image, radius, mapping)
    except (cv2.error, np.linalg.LinAlgError, ValueError) as exc:
        raise TargetError("the matching failed on these pictures (%s)" % _reason(exc))


def _reason(exc):
    lines = str(exc).strip().splitlines()
    return (lines[-1] if lines else type(exc).__name__)[:120]


def recentred(mapping, u, v, width, height, factor=1.0):
    """The mapping expected once the PTZ centred on its pixel (u, v) and zoomed by `factor` (areazoom)."""
    cx, cy = width / 2.0 - 0.5, height / 2.0 - 0.5
    step = np.array([[factor, 0, cx - factor * u], [0, factor, cy - factor * v], [0, 0, 1]], np.float64)
    return step @ mapping


def _follow(head, x, y, ptz_image, radius, mapping):
    """Head pixel (x, y) in a PTZ picture whose mapping from the head is about `mapping` (known from the
    picture before and the move in between). The head's patch is warped into the PTZ's frame by it, so the
    two are compared like for like: a normalized cross-correlation search corrects the shift the move left,
    ECC refines the whole mapping, and a last correlation over the pixel's own neighbourhood places it (a
    patch spans depths, and near content moves with parallax). TargetError when it cannot be done with
    confidence."""
    u, v = to_pixel(x, y, head.width, head.height)
    height = ptz_image.shape[0]
    scale = math.sqrt(abs(np.linalg.det(_jacobian(mapping, u, v))))
    half = int(min(0.7 * radius * scale, 0.3 * height))
    reach = max(8, int(0.3 * half))
    dx, dy, best, response = _correlate(head.image, u, v, ptz_image, mapping, half, reach)
    wide = best < MIN_CORRELATION or max(abs(dx), abs(dy)) >= reach - 1
    if wide:
        # Not found within the search, or at its edge: a click lands only about where it was aimed (VAPIX turns a
        # pixel's offset into angles approximately, up to a degree off at the wide end, times the zoom after an
        # areazoom), so the content may lie beyond it. Search again, as far as the picture allows; what that finds
        # must be a peak inside the search and be confirmed by ECC below.
        width = ptz_image.shape[1]
        pu, pv = cv2.perspectiveTransform(np.float32([[[u, v]]]), mapping)[0, 0]
        room = int(min(pu - half, width - 1 - half - pu, pv - half, height - 1 - half - pv))
        wide = room > reach
        if wide:
            dx, dy, best, response = _correlate(head.image, u, v, ptz_image, mapping, half, room)
            if best >= MIN_CORRELATION and max(abs(dx), abs(dy)) >= room - 1:
                raise TargetError("the target's patch was not found around where the click aimed (it correlates "
                                  "best at the edge of the picture's search)")
    if best < MIN_CORRELATION:
        raise TargetError("the target's patch does not correlate with the PTZ's picture (%.2f)" % best)
    # Another peak of the correlation (a local maximum, not the flank of the best one) almost as high: a repeat.
    _low, _high, _where, (bx, by) = cv2.minMaxLoc(response)
    peaks = (response >= cv2.dilate(response, np.ones((5, 5), np.uint8))) & (response > REPEAT_CORRELATION * best)
    guard = max(3, int(0.1 * half))
    peaks[max(0, by - guard):by + guard + 1, max(0, bx - guard):bx + guard + 1] = False
    if peaks.any():
        raise TargetError("a repetitive pattern: the target's patch correlates in two places of the PTZ's picture")
    shifted = _translated(mapping, dx, dy)
    pu, pv = cv2.perspectiveTransform(np.float32([[[u, v]]]), shifted)[0, 0]
    refined, correlation = _refine(head.image, u, v, radius, ptz_image, shifted)
    qu, qv = cv2.perspectiveTransform(np.float32([[[u, v]]]), refined)[0, 0]
    if correlation < MIN_CORRELATION or math.hypot(qu - pu, qv - pv) > max(3.0, 0.1 * half):
        if wide:
            raise TargetError("the target's patch does not correlate with the PTZ's picture (%.2f), nor does what "
                              "resembles it farther from where the click aimed" % max(correlation, 0.0))
        # ECC found no better mapping near the correlation's peak (it drifted): the peak's own stands.
        refined, correlation = shifted, best
    close = int(half * CLOSE)
    try:
        cx, cy, agreement, _response = _correlate(head.image, u, v, ptz_image, refined, close, 4)
    except TargetError:
        agreement = 0.0
    if agreement >= MIN_CORRELATION:
        refined = _translated(refined, cx, cy)
    qu, qv = cv2.perspectiveTransform(np.float32([[[u, v]]]), refined)[0, 0]
    return Match(float(qu), float(qv), math.sqrt(abs(np.linalg.det(_jacobian(refined, u, v)))), None,
                 correlation, refined)


def _translated(mapping, dx, dy):
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64) @ mapping


def _correlate(head_image, u, v, ptz_image, mapping, half, reach):
    """(dx, dy, best, response): the shift of the PTZ picture against the head's patch warped into its frame,
    over a window of `half` pixels around where `mapping` puts head pixel (u, v), searched `reach` around."""
    height, width = ptz_image.shape[:2]
    pu, pv = cv2.perspectiveTransform(np.float32([[[u, v]]]), mapping)[0, 0]
    if half < 8 or not (half + reach <= pu < width - half - reach and half + reach <= pv < height - half - reach):
        raise TargetError("the target left the PTZ's picture after the move")
    x0, y0 = int(round(pu)) - half, int(round(pv)) - half
    box = np.array([[1, 0, -(x0 - reach)], [0, 1, -(y0 - reach)], [0, 0, 1]], np.float64)
    size = (2 * (half + reach) + 1, 2 * (half + reach) + 1)
    warped = cv2.warpPerspective(head_image, box @ mapping, size, flags=cv2.INTER_LINEAR)
    template = warped[reach:reach + 2 * half + 1, reach:reach + 2 * half + 1]
    if float(template.std()) < 4.0:
        raise TargetError("too little contrast around the target")
    scale = math.sqrt(abs(np.linalg.det(_jacobian(mapping, u, v))))
    search = ptz_image[y0 - reach:y0 + 2 * half + 1 + reach, x0 - reach:x0 + 2 * half + 1 + reach]
    search = cv2.GaussianBlur(search, (0, 0), max(0.5, 0.5 * scale))
    response = cv2.matchTemplate(search, template, cv2.TM_CCOEFF_NORMED)
    _low, best, _where, (bx, by) = cv2.minMaxLoc(response)
    dx = bx - reach + _vertex(response, bx, by, 1)
    dy = by - reach + _vertex(response, bx, by, 0)
    return dx, dy, float(best), response


def _vertex(response, x, y, axis):
    """Sub-pixel offset of a correlation peak along one axis (a parabola through three values)."""
    if axis == 1:
        if not 0 < x < response.shape[1] - 1:
            return 0.0
        a, b, c = response[y, x - 1], response[y, x], response[y, x + 1]
    else:
        if not 0 < y < response.shape[0] - 1:
            return 0.0
        a, b, c = response[y - 1, x], response[y, x], response[y + 1, x]
    bend = a - 2 * b + c
    return float(0.5 * (a - c) / bend) if bend < 0 else 0.0


def _plausible(mapping, u, v):
    """A mapping between two views of one scene keeps orientation, and its two scales are alike."""
    if not np.all(np.isfinite(mapping)):
        return False
    jacobian = _jacobian(mapping, u, v)
    if np.linalg.det(jacobian) <= 0:
        return False
    singular = np.linalg.svd(jacobian, compute_uv=False)
    return 0.1 < singular[1] and singular[0] < 50 and singular[0] < 2.0 * singular[1]


def _jacobian(mapping, u, v):
    """The local linear part of a homography at (u, v)."""
    h = mapping
    w = h[2, 0] * u + h[2, 1] * v + h[2, 2]
    x = (h[0, 0] * u + h[0, 1] * v + h[0, 2]) / w
    y = (h[1, 0] * u + h[1, 1] * v + h[1, 2]) / w
    return np.array([[(h[0, 0] - x * h[2, 0]) / w, (h[0, 1] - x * h[2, 1]) / w],
                     [(h[1, 0] - y * h[2, 0]) / w, (h[1, 1] - y * h[2, 1]) / w]])


def _refine(head_image, u, v, radius, ptz_image, mapping):
    """ECC refinement of the head-to-PTZ mapping over the target's patch; (mapping, correlation)."""
    x0, y0 = int(max(0, u - radius)), int(max(0, v - radius))
    x1, y1 = int(min(head_image.shape[1], u + radius + 1)), int(min(head_image.shape[0], v + radius + 1))
    patch = head_image[y0:y1, x0:x1].astype(np.float32)
    shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
    # PTZ picture -> head patch: ECC warps the input (the patch) onto the template (the PTZ picture's window).
    to_patch = np.linalg.inv(mapping @ shift)
    corners = cv2.perspectiveTransform(np.float32([[[0, 0], [x1 - x0, 0], [x1 - x0, y1 - y0], [0, y1 - y0]]]),
                                       mapping @ shift)[0]
    inner = 0.15
    low = corners.min(axis=0) * (1 - inner) + corners.max(axis=0) * inner
    high = corners.max(axis=0) * (1 - inner) + corners.min(axis=0) * inner
    wx0, wy0 = int(max(0, low[0])), int(max(0, low[1]))
    wx1, wy1 = int(min(ptz_image.shape[1], high[0])), int(min(ptz_image.shape[0], high[1]))
    if wx1 - wx0 < 16 or wy1 - wy0 < 16:
        return mapping, 0.0
    window = ptz_image[wy0:wy1, wx0:wx1].astype(np.float32)
    offset = np.array([[1, 0, wx0], [0, 1, wy0], [0, 0, 1]], np.float64)
    warp = (to_patch @ offset).astype(np.float32)
    warp /= warp[2, 2]
    # Smoothing in proportion to the scale: the PTZ's picture is sharper than the head's by about it.
    scale = math.sqrt(abs(np.linalg.det(_jacobian(mapping, u, v))))
    blur = max(1, int(round(scale)) | 1)
    if blur > 1:
        window = cv2.GaussianBlur(window, (2 * blur + 1, 2 * blur + 1), blur / 1.5)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    try:
        correlation, warp = cv2.findTransformECC(window, patch, warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 5)
        refined = offset @ np.linalg.inv(warp.astype(np.float64)) @ np.linalg.inv(shift)
    except (cv2.error, np.linalg.LinAlgError):
        return mapping, 0.0
    if not _plausible(refined, u, v):
        return mapping, 0.0
    return refined / refined[2, 2], float(correlation)


def thumbnail(head, x, y, radius, ptz_image, ptz_radius, side=64):
    """The head's patch around pixel (x, y) beside the centre of the PTZ's picture, each `side` pixels square
    with a cross at its centre: one small JPEG (about 3 kB) for a report, never a whole picture."""
    u, v = to_pixel(x, y, head.width, head.height)
    height, width = ptz_image.shape[:2]
    halves = [_square(head.image, u, v, radius, side), np.full((side, 2), 255, np.uint8),
              _square(ptz_image, width / 2.0 - 0.5, height / 2.0 - 0.5, ptz_radius, side)]
    both = cv2.cvtColor(np.hstack(halves), cv2.COLOR_GRAY2BGR)
    for centre in (side // 2, side + 2 + side // 2):
        cv2.drawMarker(both, (centre, side // 2), (0, 0, 255), cv2.MARKER_CROSS, 9, 1)
    ok, jpeg = cv2.imencode(".jpg", both, [cv2.IMWRITE_JPEG_QUALITY, 70])
    if not ok:
        raise TargetError("the thumbnail could not be encoded")
    return jpeg.tobytes()


def _square(image, u, v, radius, side):
    """The square of `radius` pixels around (u, v), black beyond the picture, resized to `side` pixels."""
    r = max(2, int(round(radius)))
    padded = cv2.copyMakeBorder(image, r, r, r, r, cv2.BORDER_CONSTANT, value=0)
    cu, cv = int(round(u)) + r, int(round(v)) + r
    return cv2.resize(padded[cv - r:cv + r, cu - r:cu + r], (side, side), interpolation=cv2.INTER_AREA)
