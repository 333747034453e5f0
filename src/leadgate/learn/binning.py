"""Binning of features and weight of evidence (WoE), the first step of a points scorecard.

Cut points come from optbinning's ``OptimalBinning`` (constrained optimisation; counts and recency
are kept monotonic, numeric profile attributes take any shape, categories are grouped by event
rate) and, should it fail, from quantiles (numbers) or one bin per category. Cut points are then
made readable and engine-exact: counts cut at whole events, recency at whole days (one significant
figure below a day), numbers at two
significant figures (whole numbers when the column holds text numbers, see ``numregex``).

Every bin's statistics are recomputed from the data after rounding. The weight of evidence of a
bin with ``e`` events among ``n`` rows, overall event rate ``p``, is the log odds ratio shrunk
towards the overall rate with a prior of ``PRIOR`` pseudo-rows::

    woe = ln((e + PRIOR p) / (n - e + PRIOR (1 - p))) - ln(p / (1 - p))

so positive means "more likely than average", and an empty bin (an unseen category, a missing
value never seen in training) is neutral (0).

Each feature has a *reference* bin, the one a lead falls into when no rule of the feature
matches: missing for numbers and flags, "never" for recency, zero events for counts, and the
"other" categories (rare or unseen) for categorical columns. Its points are 0.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from leadgate.learn.cleaning import OTHER
from leadgate.learn.features import Feature

PRIOR = 2.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bin:
    """One bin: an interval ``[lo, hi)`` (None = unbounded), a set of categories, or missing."""

    count: int
    events: int
    woe: float
    lo: float | None = None
    hi: float | None = None
    categories: tuple[str, ...] = ()
    missing: bool = False

    @property
    def rate(self) -> float:
        return self.events / self.count if self.count else math.nan


@dataclass
class BinnedFeature:
    """A feature's bins, its reference bin and information value."""

    feature: Feature
    bins: list[Bin]
    reference: int
    iv: float
    method: str
    splits: tuple[float, ...] = ()  # numeric kinds: the cut points

    def index(self, values: np.ndarray) -> np.ndarray:
        """The bin of each value (numeric kinds: by cut points, NaN -> missing; else category)."""
        if self.feature.kind == "categorical":
            where = {c: i for i, b in enumerate(self.bins) for c in b.categories}
            return np.asarray([where.get(v, self.reference) for v in values], dtype=int)
        x = np.asarray(values, dtype=float)
        idx = np.searchsorted(np.asarray(self.splits), x, side="right")
        missing = next((i for i, b in enumerate(self.bins) if b.missing), self.reference)
        return np.where(np.isnan(x), missing, idx)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Weight of evidence of each value's bin."""
        woe = np.asarray([b.woe for b in self.bins])
        out: np.ndarray = woe[self.index(values)]
        return out


def out_of_fold_woe(bf: BinnedFeature, y: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Each row's WoE computed from the *other* folds' rows of its bin (same bins).

    A bin structure fitted to noise (many small categories, e.g. first names) keeps its in-sample
    WoE but loses it out of fold, so a regression fitted on these values gives such a feature
    the small weight it deserves, as target encoding with cross-fitting does.
    """
    if bf.feature.kind == "categorical":
        # group membership was chosen from every training row's rate, so it is re-derived per
        # category inside the folds (target encoding with cross-fitting); noise categories then
        # look like noise
        _, idx = np.unique(np.asarray(bf.feature.values, dtype=str), return_inverse=True)
    else:
        idx = bf.index(bf.feature.values)
    fold = np.random.default_rng(seed).permutation(len(y)) % folds
    out = np.zeros(len(y))
    n_bins = int(idx.max()) + 1 if len(idx) else 0
    for k in range(folds):
        inside = fold == k
        rest_idx, rest_y = idx[~inside], y[~inside]
        counts = np.bincount(rest_idx, minlength=n_bins).astype(float)
        events = np.bincount(rest_idx, weights=rest_y, minlength=n_bins)
        rate = float(np.clip(rest_y.mean(), 1e-6, 1 - 1e-6))
        woe = np.asarray([woe_of(e, n, rate) for e, n in zip(events, counts, strict=True)])
        out[inside] = woe[idx[inside]]
    return out


def woe_of(events: float, count: float, rate: float) -> float:
    """Shrunk weight of evidence (module docstring)."""
    good = events + PRIOR * rate
    bad = count - events + PRIOR * (1 - rate)
    return math.log(good / bad) - math.log(rate / (1 - rate))


def information_value(bins: list[Bin], y: np.ndarray) -> float:
    """Sum over bins of (event share - non-event share) * ln(event share / non-event share)."""
    e_total, n_total = float(y.sum()), float(len(y) - y.sum())
    iv = 0.0
    for b in bins:
        if b.count == 0:
            continue
        de = (b.events + 0.5) / (e_total + 0.5)
        dn = (b.count - b.events + 0.5) / (n_total + 0.5)
        iv += (de - dn) * math.log(de / dn)
    return iv


def _nice(value: float, feature: Feature) -> float:
    """A readable, engine-exact cut point (see the module docstring)."""
    if feature.kind in ("count", "flag"):
        return float(math.ceil(value))
    if feature.kind == "recency":
        # whole days, except inside the first day, where "active in the last hour" can matter
        return float(max(1, round(value))) if value >= 1 else float(f"{max(value, 1e-4):.1g}")
    if value == 0:
        return 0.0
    digits = 1 - math.floor(math.log10(abs(value)))
    nice = round(value, digits)
    if feature.text_numbers or feature.integer_valued:
        nice = float(math.ceil(nice))
    return float(nice)


def _quiet_solvers(record: logging.LogRecord) -> bool:
    return "importing solver" not in record.getMessage()


def _optimal_splits(feature: Feature, y: np.ndarray) -> list[float] | list[list[str]] | None:
    # cvxpy (imported by optbinning) warns on stderr about optional solvers it cannot load,
    # which are never used here; its logger is configured at import, so filter, don't set levels
    cvxpy_log = logging.getLogger("__cvxpy__")
    if _quiet_solvers not in cvxpy_log.filters:
        cvxpy_log.addFilter(_quiet_solvers)
    try:
        from optbinning import OptimalBinning
    except ImportError:  # optional: fall back to quantiles
        return None
    if feature.kind == "categorical":
        ob = OptimalBinning(name=feature.name, dtype="categorical", solver="cp", max_n_bins=8,
                            min_bin_size=0.03, time_limit=10)  # fmt: skip
        x = np.asarray(feature.values, dtype=object)
    else:
        # profile numbers take any shape (a sweet spot, a dip, several peaks); the out-of-fold
        # check and the minimum bin size keep it from fitting noise. Counts and recency stay
        # monotone: more visits, or a later one, reads one way.
        trend = None if feature.kind == "numeric" else "auto_asc_desc"
        ob = OptimalBinning(name=feature.name, dtype="numerical", solver="cp", max_n_bins=6,
                            min_bin_size=0.04, monotonic_trend=trend, time_limit=10)  # fmt: skip
        x = np.asarray(feature.values, dtype=float)
    try:
        ob.fit(x, y)
    except (ValueError, RuntimeError) as exc:  # degenerate input: fall back
        log.info("optimal binning failed for %s: %s", feature.name, exc)
        return None
    if ob.status not in ("OPTIMAL", "FEASIBLE"):
        return None
    if feature.kind == "categorical":
        return [[str(c) for c in group] for group in ob.splits]
    return [float(s) for s in ob.splits]


def _quantile_splits(feature: Feature) -> list[float] | list[list[str]]:
    if feature.kind == "categorical":
        return [[c] for c in sorted({str(v) for v in feature.values})]
    x = np.asarray(feature.values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return []
    return sorted({float(q) for q in np.quantile(x, [0.2, 0.4, 0.6, 0.8])})[:]


def bin_feature(feature: Feature, y: np.ndarray, method: str = "optimal") -> BinnedFeature:
    """Bin one feature against the binary outcome ``y`` (1 = positive)."""
    splits = _optimal_splits(feature, y) if method == "optimal" else None
    if splits is not None and len(splits) < (2 if feature.kind == "categorical" else 1):
        # one bin: no split was worth it, or a (near-)pure category defeated the solver (a
        # post-outcome column does that); plain bins let the leakage guard and IV judge it
        splits = None
    used = "optimal" if splits is not None else "quantile"
    if splits is None:
        splits = _quantile_splits(feature)
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    if feature.kind == "categorical":
        return _categorical(feature, y, splits, rate, used)  # type: ignore[arg-type]
    return _numeric(feature, y, splits, rate, used)  # type: ignore[arg-type]


def _categorical(
    feature: Feature, y: np.ndarray, groups: list[list[str]], rate: float, method: str
) -> BinnedFeature:
    values = np.asarray(feature.values, dtype=object)
    seen = {c for g in groups for c in g}
    # categories optbinning left out (too small) join "other"
    rest = tuple(sorted({str(v) for v in values} - seen))
    groups = [list(g) for g in groups]
    if not any(OTHER in g for g in groups):
        groups.append([OTHER])
    ref = next(i for i, g in enumerate(groups) if OTHER in g)
    groups[ref] = groups[ref] + [c for c in rest if c not in groups[ref]]
    bins = []
    for g in groups:
        mask = np.isin(values, g)
        n, e = int(mask.sum()), int(y[mask].sum())
        bins.append(Bin(n, e, woe_of(e, n, rate), categories=tuple(g)))
    return BinnedFeature(feature, bins, ref, information_value(bins, y), method)


def _numeric(
    feature: Feature, y: np.ndarray, raw: list[float], rate: float, method: str
) -> BinnedFeature:
    x = np.asarray(feature.values, dtype=float)
    cuts = sorted({_nice(s, feature) for s in raw})
    present = x[~np.isnan(x)]
    if len(present):
        # a cut at or below the minimum (or above the maximum) leaves an empty bin: drop it
        cuts = [c for c in cuts if present.min() < c <= present.max()]
    edges: list[float | None] = [None, *cuts, None]
    bins: list[Bin] = []
    idx = np.searchsorted(np.asarray(cuts), x, side="right")
    for i in range(len(cuts) + 1):
        mask = (idx == i) & ~np.isnan(x)
        n, e = int(mask.sum()), int(y[mask].sum())
        bins.append(Bin(n, e, woe_of(e, n, rate), lo=edges[i], hi=edges[i + 1]))
    miss = np.isnan(x)
    n, e = int(miss.sum()), int(y[miss].sum())
    bins.append(Bin(n, e, woe_of(e, n, rate), missing=True))
    if feature.kind == "count":
        ref = int(np.searchsorted(np.asarray(cuts), 0.0, side="right"))
    else:
        ref = len(bins) - 1
    binned = BinnedFeature(feature, bins, ref, information_value(bins, y), method, tuple(cuts))
    return binned
