"""Invariant 1 on Spark (PySpark local mode): a few random models, and the reference model.

Marked ``spark``: skipped where PySpark or Java is missing; CI installs both. Kept to a handful of
examples because every query is a Spark job.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from agreement import AS_OFS, inputs_st, measure_models, models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_agreement import check_agreement
from test_sql import check_accounts_join

from leadgate.batch.spark_runner import spark_available

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not spark_available(), reason="needs PySpark and Java"),
]


# Every Spark query costs seconds: 2 random models a run, each at one of the as-of times (drawn:
# the other engines score every example at all three, and Spark runs the same compiled query
# with another literal), so three Spark queries an example instead of five. The conformance
# cases pin each rule kind on Spark, and the tests below the reference model, accounts and
# regexes.
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(models(), inputs_st, st.sampled_from(AS_OFS))
def test_spark_agrees_with_python(
    model: dict[str, Any], inputs: tuple[list[Any], list[Any]], as_of: datetime
) -> None:
    profiles, events = inputs
    check_agreement(model, profiles, events, engines=["spark"], as_ofs=(as_of,))


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(measure_models(), inputs_st, st.sampled_from(AS_OFS))
def test_spark_measures_agree_with_python(
    model: dict[str, Any], inputs: tuple[list[Any], list[Any]], as_of: datetime
) -> None:
    profiles, events = inputs
    check_agreement(model, profiles, events, engines=["spark"], as_ofs=(as_of,))


def test_spark_scores_the_reference_model_like_python() -> None:
    model = {
        "threshold": 20,
        "dimensions": {
            "fit": {"max": 30, "rules": [
                {"name": "vp", "when": {"title": {"matches": r"\bvp\b"}}, "points": 20},
                {"name": "size", "when": {"size": {"between": [200, 5000]}}, "points": 10},
            ]},
            "engagement": {"half_life_days": 7, "rules": [
                {"name": "opens", "event": "open", "points": 3, "max_points": 10},
                {"name": "pricing", "event": "view", "where": {"url": {"contains": "/pricing"}}, "points": 5, "max_count": 2},
            ]},
        },
        "require": [{"name": "business", "when": {"email": {"not_free_email": True}}}],
    }  # fmt: skip
    profiles = [
        {"title": "VP Sales", "size": 300, "email": "a@acme.com"},
        {"title": "mvp", "size": "n/a", "email": "b@gmail.com"},
    ]
    events = [(0, "open", 3600 * h, 0, {}) for h in (1, 30, 200)]
    events += [(0, "view", 86400 * d, 250000, {"url": "/PRICING"}) for d in (1, 2, 3)]
    # one as-of time (the random models above draw theirs)
    check_agreement(model, profiles, events, engines=["spark"], as_ofs=AS_OFS[:1])


def test_spark_joins_accounts(tmp_path: Path) -> None:
    check_accounts_join(tmp_path, "spark")


def test_translated_regexes_match_what_re2_matches_on_java() -> None:
    from pyspark.sql import functions as F
    from test_agreement_postgres import PATTERNS, TEXTS

    from leadgate.batch.spark_runner import spark_session
    from leadgate.engine.sql_regex import translate_regex
    from leadgate.model.regex_safety import compile_regex

    spark = spark_session()
    frame = spark.createDataFrame([(t,) for t in TEXTS], ["t"])
    checks = [
        F.col("t").rlike("(?diu)" + translate_regex(p, "java")).alias(f"p{i}")
        for i, p in enumerate(PATTERNS)
    ]
    for row in frame.select("t", *checks).collect():
        for i, pattern in enumerate(PATTERNS):
            expected = compile_regex(pattern).search(row["t"]) is not None
            assert row[f"p{i}"] == expected, (pattern, row["t"])
