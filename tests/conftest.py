"""Shared test configuration: hypothesis profiles and the import path for tests/factories.py."""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

import spark_cds  # from tests/, on the path above

# Webhook receivers in tests listen on loopback, which the target allow-list refuses by default
# (src/leadgate/webhooks/targets.py): the tests allow it explicitly, here, for every test and the
# servers and commands they start. Tests of the allow-list itself remove it (monkeypatch).
os.environ["LEADGATE_WEBHOOKS_ALLOW"] = "loopback"

# Spark's JVM (in the workers and in the `leadgate score --engine spark` processes tests start)
# on a few rows: the C1 compiler only (the JVM spent more CPU compiling Spark's own code at full
# optimisation than running the queries), no adaptive query execution (a re-plan per stage) and
# one partition. About half the JVM's CPU per test; the queries and their results are the same.
# Interpreted expressions, no whole-stage code generation: on a few rows, compiling the
# generated Java (Janino) cost more than running it (a sixth less JVM CPU on the conformance
# cases); the serial garbage collector: a small heap, no parallel GC threads competing with
# the other worker for the two cores.
# Spark's classes come from a class-data-sharing archive written by an earlier run on this
# machine (tests/spark_cds.py): the JVM's start 9.6 -> 3.2 s, and the first use of an operator
# cheaper too. PySpark's busiest jars come first on the class path (tests/spark_cds.py: each
# class is looked up jar after jar).
SPARK_CONF = (
    "--conf spark.sql.adaptive.enabled=false --conf spark.sql.shuffle.partitions=1"
    " --conf spark.default.parallelism=1 --conf spark.sql.codegen.wholeStage=false"
    " --conf spark.sql.codegen.factoryMode=NO_CODEGEN "
) + spark_cds.first_jars()
JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def _submit_args(java_options: str) -> str:
    return f"{SPARK_CONF} '--driver-java-options={java_options}' pyspark-shell"


# None: PYSPARK_SUBMIT_ARGS set by the user (kept as it is), or no archive possible here.
CDS_ARCHIVE = spark_cds.archive_path(f"{JAVA_OPTIONS} {SPARK_CONF}")  # (the class path too)
if os.environ.get("PYSPARK_SUBMIT_ARGS", _submit_args(JAVA_OPTIONS)) == _submit_args(JAVA_OPTIONS):
    # (an xdist worker inherits the value its controller set)
    os.environ["PYSPARK_SUBMIT_ARGS"] = _submit_args(spark_cds.reading(JAVA_OPTIONS, CDS_ARCHIVE))
elif os.environ["PYSPARK_SUBMIT_ARGS"] != _submit_args(
    spark_cds.reading(JAVA_OPTIONS, CDS_ARCHIVE)
):
    CDS_ARCHIVE = None
_writing_archive = False

# One example count for ./dev.sh test and CI (which runs it): a run draws fresh examples, so the
# properties are searched across runs; 60 in CI cost minutes without finding more.
settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


INTEGRATION_MARKERS = ("postgres", "spark", "browser")
_skipped_integration: list[str] = []


def _group(item: pytest.Item) -> str | None:
    if item.get_closest_marker("spark"):
        return "spark"
    if item.get_closest_marker("browser"):
        return "browser"
    return None


@pytest.hookimpl(wrapper=True)  # around xdist's hook, which reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    # One xdist worker runs every Spark test: one JVM starts and warms up, not one per worker.
    # Likewise one worker runs the browser tests: they share one server and one Chromium per
    # module, and the screenshot test counts the pictures the module's other tests saved.
    for item in items:
        group = _group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    yield
    # xdist tells its scheduler an item's group by a "@group" suffix on the node id, which it
    # sets as ``item._nodeid``; pytest 9 keeps the id in ``item._id``, so that assignment is
    # lost and every Spark test went to whichever worker was free (two JVMs). Set it here when
    # xdist's did not take.
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        group = _group(item)
        if group is not None and not item.nodeid.endswith("@" + group):
            _set_nodeid(item, f"{item.nodeid}@{group}")


def _set_nodeid(item: pytest.Item, nodeid: str) -> None:
    current = getattr(item, "_id", None)
    if current is not None and hasattr(type(current), "parse"):  # pytest >= 9: a NodeId
        item._id = type(current).parse(nodeid)
    else:
        item._nodeid = nodeid


def pytest_runtest_setup(item: pytest.Item) -> None:
    # No archive yet: this worker's JVM (one for all Spark tests) starts now, writing one as it
    # exits; the environment is restored at once, so the `leadgate` processes tests start
    # neither write nor wait for one.
    global _writing_archive
    if CDS_ARCHIVE is None or CDS_ARCHIVE.exists() or not item.get_closest_marker("spark"):
        return
    if not spark_cds.recording():  # CI: recording costs the run more than it saves
        return
    from pyspark import SparkContext

    from leadgate.batch.spark_runner import spark_available, spark_session

    if SparkContext._gateway is not None or not spark_available():
        return
    try:
        CDS_ARCHIVE.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    saved = os.environ["PYSPARK_SUBMIT_ARGS"]
    os.environ["PYSPARK_SUBMIT_ARGS"] = _submit_args(spark_cds.writing(JAVA_OPTIONS, CDS_ARCHIVE))
    try:
        spark_session(None)
        _writing_archive = True
    finally:
        os.environ["PYSPARK_SUBMIT_ARGS"] = saved


@pytest.hookimpl(trylast=True)  # after the test's fixtures are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    # The Spark group is done: the JVM writes its archive now, while the other worker still
    # runs tests, rather than at the end of the run.
    global _writing_archive
    if _writing_archive and (nextitem is None or not nextitem.get_closest_marker("spark")):
        _writing_archive = False
        if CDS_ARCHIVE is not None:
            spark_cds.stop_and_keep(CDS_ARCHIVE)


def pytest_runtest_logreport(report) -> None:  # type: ignore[no-untyped-def]
    if report.skipped and any(m in report.keywords for m in INTEGRATION_MARKERS):
        _skipped_integration.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus) -> None:  # type: ignore[no-untyped-def]
    # ./dev.sh test (and so CI) installs PostgreSQL, Java and Chromium: an integration test that
    # skips there is a failure. LEADGATE_REQUIRE_INTEGRATION=0 allows skips.
    if _writing_archive and CDS_ARCHIVE is not None:
        spark_cds.stop_and_keep(CDS_ARCHIVE)
    if os.environ.get("LEADGATE_REQUIRE_INTEGRATION", "0") != "0" and _skipped_integration:
        print(f"\n{len(_skipped_integration)} integration test(s) skipped in CI:")
        for nodeid in _skipped_integration[:20]:
            print("  ", nodeid)
        session.exitstatus = 1
