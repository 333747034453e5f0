"""Pairwise interaction rules: what two profile attributes say *together* beyond their own points.

A points scorecard adds one shape per feature; a lead's odds often depend on a combination
(a senior contact *at a small company*, a campaign month *in a given year*). After the scorecard
is fitted, ``find_interactions`` boosts its training logit with conjunction rules, the way
EBM's FAST ranks pairs: with the current model's probabilities ``p``, every training row has a
gradient ``g = y - p`` and a curvature ``h = p (1 - p)``; for a pair of features and a *side* of
each (a range of a numeric feature's bins, in value order; a set of a categorical feature's
groups, in weight-of-evidence order), the rows in both sides gain ``G^2 / (H + LAMBDA)`` in
log-likelihood (one Newton step) from a rule worth ``G / (H + LAMBDA)`` log-odds. The best rule
over all pairs and sides is kept when its score statistic ``G^2 / H`` exceeds ``MIN_SCORE`` (a
chi-square level that stays rare by chance among the thousands of candidates tried) and it holds
at least ``MIN_SUPPORT`` of the rows; the logit is updated and the search repeats, up to the rule
budget. Sides are proper subsets of each feature's bins, so a rule is a genuine "A and B" and
not a main effect again.

Each kept rule is written as an ordinary leadgate rule whose ``when`` is an ``all:`` of the two
features' conditions (``rules``) with integer points, so both executors score it. Only profile
features (numeric, categorical, e-mail flag) pair: event counts are count rules, not conditions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadgate.learn.binning import Bin, BinnedFeature

PAIR_KINDS = ("numeric", "categorical", "flag")
LAMBDA = 10.0  # pseudo-curvature: shrinks the points of small or uncertain cells
MIN_SCORE = 20.0  # chi-square(1) score statistic; p ~ 8e-6 for one test
MIN_SUPPORT = 0.02  # share of training rows in the cell (and at least MIN_ROWS)
MIN_ROWS = 20


@dataclass(frozen=True)
class Side:
    """A set of one feature's bins (never all of them, never its reference bin for categories)."""

    feature: BinnedFeature
    bins: tuple[int, ...]

    def merged(self) -> Bin:
        """One bin standing for the set: a value range, or the union of the categories."""
        bins = [self.feature.bins[i] for i in self.bins]
        if self.feature.feature.kind == "categorical":
            cats = tuple(c for b in bins for c in b.categories)
            return Bin(0, 0, 0.0, categories=cats)
        return Bin(0, 0, 0.0, lo=bins[0].lo, hi=bins[-1].hi)

    def mask(self, values: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.isin(self.feature.index(values), self.bins)
        return out


@dataclass(frozen=True)
class Interaction:
    """A conjunction rule: rows in side ``a`` and side ``b`` get ``points`` more."""

    a: Side
    b: Side
    points: int
    rows: int  # training rows in the cell (support)
    events: int
    predicted: float  # mean probability of the cell's rows before the rule
    gain: float  # score statistic G^2 / H when found

    def mask(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        a = self.a.mask(columns[self.a.feature.feature.name])
        out: np.ndarray = a & self.b.mask(columns[self.b.feature.feature.name])
        return out

    @property
    def lift(self) -> float:
        """The cell's observed outcome rate over the rate the main effects predicted."""
        return (self.events / self.rows) / self.predicted if self.predicted > 0 else float("nan")


def _sides(bf: BinnedFeature) -> list[tuple[int, ...]]:
    """Candidate sides: prefixes and suffixes of the ordered bins (missing/reference left out)."""
    kind = bf.feature.kind
    if kind == "categorical":
        order = [i for i in range(len(bf.bins)) if i != bf.reference and bf.bins[i].count]
        order.sort(key=lambda i: bf.bins[i].woe)
    else:
        # every value bin, empty or not: a range side must be contiguous
        order = [i for i, b in enumerate(bf.bins) if not b.missing]
    if kind == "flag":  # one side per address type
        return [(i,) for i in order]
    sides = {tuple(order[:k]) for k in range(1, len(order))}
    sides |= {tuple(order[k:]) for k in range(1, len(order))}
    if kind == "categorical":
        sides |= {(i,) for i in order}
    return sorted(sides)


def _best_for_pair(
    a: BinnedFeature, b: BinnedFeature, ia: np.ndarray, ib: np.ndarray,
    g: np.ndarray, h: np.ndarray, min_rows: float,
) -> tuple[float, tuple[int, ...], tuple[int, ...]] | None:  # fmt: skip
    na, nb = len(a.bins), len(b.bins)
    cell = ia * nb + ib
    G = np.bincount(cell, weights=g, minlength=na * nb).reshape(na, nb)
    H = np.bincount(cell, weights=h, minlength=na * nb).reshape(na, nb)
    N = np.bincount(cell, minlength=na * nb).reshape(na, nb)
    sa, sb = _sides(a), _sides(b)
    if not sa or not sb:
        return None
    ma = np.zeros((len(sa), na))
    for k, s in enumerate(sa):
        ma[k, list(s)] = 1
    mb = np.zeros((len(sb), nb))
    for k, s in enumerate(sb):
        mb[k, list(s)] = 1
    gs, hs, ns = ma @ G @ mb.T, ma @ H @ mb.T, ma @ N @ mb.T
    score = np.where((ns >= min_rows) & (hs > 0), gs**2 / np.maximum(hs, 1e-12), 0.0)
    k = int(np.argmax(score))
    i, j = divmod(k, len(sb))
    return float(score[i, j]), sa[i], sb[j]


def find_interactions(
    candidates: list[BinnedFeature], logit: np.ndarray, y: np.ndarray, factor: float,
    budget: int,
) -> list[Interaction]:  # fmt: skip
    """Greedy conjunction rules on top of ``logit`` (module docstring), at most ``budget``."""
    feats = [bf for bf in candidates if bf.feature.kind in PAIR_KINDS and len(bf.bins) > 1]
    index = [bf.index(bf.feature.values) for bf in feats]
    logit = np.asarray(logit, dtype=float).copy()
    min_rows = max(MIN_ROWS, MIN_SUPPORT * len(y))
    found: list[Interaction] = []
    used: set[tuple[str, tuple[int, ...], str, tuple[int, ...]]] = set()
    while len(found) < budget:
        p = 1 / (1 + np.exp(-logit))
        g, h = y - p, p * (1 - p)
        best: tuple[float, int, int, tuple[int, ...], tuple[int, ...]] | None = None
        for x in range(len(feats)):
            for z in range(x + 1, len(feats)):
                got = _best_for_pair(feats[x], feats[z], index[x], index[z], g, h, min_rows)
                if got is not None and (best is None or got[0] > best[0]):
                    best = (got[0], x, z, got[1], got[2])
        if best is None or best[0] < MIN_SCORE:
            break
        score, x, z, sa, sb = best
        key = (feats[x].feature.name, sa, feats[z].feature.name, sb)
        cell = np.isin(index[x], sa) & np.isin(index[z], sb)
        step = float(g[cell].sum() / (h[cell].sum() + LAMBDA))
        points = round(factor * step)
        if points == 0 or key in used:
            break
        used.add(key)
        found.append(Interaction(
            Side(feats[x], sa), Side(feats[z], sb), points, int(cell.sum()),
            int(y[cell].sum()), float(p[cell].mean()), round(score, 2),
        ))  # fmt: skip
        # the rule adds exactly its integer points, so the next search sees the written model
        logit[cell] += points / factor
    return found
