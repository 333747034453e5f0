"""Binning and weight of evidence: readable cut points, reference bins, honest out-of-fold WoE."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from leadgate.learn.binning import bin_feature, out_of_fold_woe, woe_of
from leadgate.learn.cleaning import OTHER
from leadgate.learn.features import EventKind, Feature


def test_empty_bins_are_neutral_and_woe_orients_to_positives() -> None:
    assert woe_of(0, 0, 0.2) == 0.0
    assert woe_of(8, 10, 0.2) > 0 > woe_of(0, 10, 0.2)


def test_counts_bin_at_whole_events_with_zero_as_reference() -> None:
    rng = np.random.default_rng(1)
    counts = rng.negative_binomial(1, 0.3, 3000).astype(float)
    y = (rng.random(3000) < 1 / (1 + np.exp(1.5 - 0.4 * np.minimum(counts, 6)))).astype(int)
    f = Feature("clicks", "count", "engagement", counts, event=EventKind("email_click"))
    bf = bin_feature(f, y)
    assert bf.method == "optimal" and len(bf.bins) >= 3
    assert all(float(c).is_integer() for c in bf.splits)
    ref = bf.bins[bf.reference]
    assert (ref.lo is None or ref.lo <= 0) and (ref.hi is None or ref.hi > 0)
    woes = [b.woe for b in bf.bins if not b.missing]
    assert woes == sorted(woes)  # more clicks, more likely: monotonic
    assert bf.iv > 0.1


def test_categories_group_and_unseen_values_fall_to_the_reference() -> None:
    rng = np.random.default_rng(2)
    cats = rng.choice(["vp", "director", "manager", "intern", OTHER], 2000)
    rate = {"vp": 0.5, "director": 0.35, "manager": 0.2, "intern": 0.05, OTHER: 0.2}
    y = (rng.random(2000) < np.vectorize(rate.get)(cats)).astype(int)
    bf = bin_feature(Feature("level", "categorical", "fit", cats.astype(object)), y)
    assert OTHER in bf.bins[bf.reference].categories
    assert bf.index(np.asarray(["never seen"], dtype=object))[0] == bf.reference
    vp = bf.bins[bf.index(np.asarray(["vp"], dtype=object))[0]]
    intern = bf.bins[bf.index(np.asarray(["intern"], dtype=object))[0]]
    assert vp.woe > 0 > intern.woe


def test_a_pure_category_is_not_merged_away() -> None:
    y = np.array([1, 0] * 200)
    stage = np.where(y == 1, "closed won", "closed lost").astype(object)
    bf = bin_feature(Feature("stage", "categorical", "fit", stage), y)
    assert len([b for b in bf.bins if b.count]) == 2 and bf.iv > 5


def test_out_of_fold_woe_exposes_noise_categories() -> None:
    rng = np.random.default_rng(4)
    names = rng.choice([f"name{i}" for i in range(60)], 1500).astype(object)
    y = (rng.random(1500) < 0.15).astype(int)  # names carry no signal
    bf = bin_feature(Feature("first_name", "categorical", "fit", names), y)
    in_sample = roc_auc_score(y, bf.transform(names))
    oof = roc_auc_score(y, out_of_fold_woe(bf, y))
    assert in_sample > 0.56 and oof < 0.53
