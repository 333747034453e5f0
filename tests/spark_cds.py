"""The test JVM's class-data-sharing archive: Spark's classes loaded once a machine, not once a JVM.

A Spark JVM loads and verifies some 15,000 classes from PySpark's jars before its first query:
about two thirds of its start-up and much of the first use of each operator. The JVM can map
the classes of an earlier run from an archive instead (application class-data sharing, JDK 13+:
``-XX:ArchiveClassesAtExit`` writes one as the JVM exits, ``-XX:SharedArchiveFile`` reads it).

Tests only (``tests/conftest.py``): the first run on a machine has no archive, so the worker
that runs the Spark tests starts its JVM asking for one and, as its session ends, stops the JVM
and moves the archive into the cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``,
``leadgate-tests/``). Later runs, and the ``leadgate`` processes their tests start (which
inherit ``PYSPARK_SUBMIT_ARGS``), map it. The file's name holds a digest of the Java runtime,
the jars and the JVM options, so another JDK or PySpark writes another archive; a stale or
unreadable archive is ignored by the JVM without a word (sharing off), never an error. The
JVM's ``cds`` log lines (classes it cannot archive) are turned off: they would reach stdout.

Writing the archive costs the run that records it more than the archive saves that run (the
recording JVM is slower and the dump of ~160 MB takes 10-50 s as the Spark group ends: the
Spark group of a fresh machine, 206 CPU-s recording against 161 without in two back-to-back
pairs, docs/performance.md).
So a CI run (``CI`` set: a throw-away machine, whose cache no later run sees) maps an archive
that is there but records none; elsewhere the first run records one for the next.
``LEADGATE_TEST_SPARK_CDS=0`` turns the archive off, ``=1`` records even in CI (a CI that keeps
``~/.cache``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import shutil
import subprocess
from pathlib import Path

_LOGS_OFF = "-Xlog:cds*=off"


def archive_path(java_options: str) -> Path | None:
    """Where the archive for this Java runtime, these jars and ``java_options`` lives (None:
    no Java or PySpark, no usable cache folder, or ``LEADGATE_TEST_SPARK_CDS=0``)."""
    if os.environ.get("LEADGATE_TEST_SPARK_CDS", "1") == "0":
        return None
    java = shutil.which("java")
    if java is None:
        home = os.environ.get("JAVA_HOME")
        java = str(Path(home) / "bin" / "java") if home else None
    spec = importlib.util.find_spec("pyspark")  # not imported: a second's work in each worker
    if java is None or not Path(java).exists() or spec is None or spec.origin is None:
        return None
    real = Path(java).resolve()
    jars = Path(spec.origin).parent / "jars"
    digest = hashlib.sha256()
    stat = real.stat()
    digest.update(f"{real}|{stat.st_size}|{stat.st_mtime_ns}|{java_options}".encode())
    for jar in sorted(jars.glob("*.jar")):
        digest.update(f"|{jar.name}|{jar.stat().st_size}".encode())
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(cache) / "leadgate-tests" / f"spark-{digest.hexdigest()[:16]}.jsa"
    # PYSPARK_SUBMIT_ARGS is split like a shell line, inside single quotes here
    return None if any(c in str(path) for c in " '\"\\") else path


def recording() -> bool:
    """Whether a run without an archive records one (not in CI unless asked: see above)."""
    wanted = os.environ.get("LEADGATE_TEST_SPARK_CDS", "")
    return wanted == "1" or (wanted == "" and not os.environ.get("CI"))


# The jars most of a test JVM's classes come from (by a class-loading log of `leadgate score`):
# the JVM looks a class up in each jar of the class path in turn, and PySpark's 280 jars come
# in alphabetical order, spark-catalyst's 2,500 classes 220 jars in. Named again at the front
# of the class path (the same files: the same classes), the look-ups end there; a JVM's start
# and first query, 26.3 -> 24.1 CPU-s in `leadgate score --engine spark` (no archive).
_FIRST_JARS = (
    "spark-catalyst_", "scala-library-", "spark-core_", "scala-reflect-", "spark-sql-api_",
    "spark-sql_", "log4j-core-", "jackson-databind-", "hadoop-client-api-", "parquet-jackson-",
    "janino-", "spark-config_", "parquet-encoding-", "hadoop-client-runtime-", "parquet-column-",
    "spark-network-common_",
)  # fmt: skip


def first_jars() -> str:
    """``--driver-class-path`` with PySpark's busiest jars ("" without PySpark)."""
    spec = importlib.util.find_spec("pyspark")  # not imported: a second's work in each worker
    if spec is None or spec.origin is None:
        return ""
    jars = sorted((Path(spec.origin).parent / "jars").glob("*.jar"))
    first = [str(j) for p in _FIRST_JARS for j in jars if j.name.startswith(p)]
    return f"--driver-class-path {shlex.quote(os.pathsep.join(first))}" if first else ""


def reading(java_options: str, archive: Path | None) -> str:
    """``java_options`` mapping ``archive`` when a complete one is there."""
    if archive is None or not archive.is_file():
        return java_options
    return f"{java_options} -XX:SharedArchiveFile={archive} {_LOGS_OFF}"


def writing(java_options: str, archive: Path) -> str:
    """``java_options`` writing the archive (``partial(archive)``) as the JVM exits."""
    return f"{java_options} -XX:ArchiveClassesAtExit={partial(archive)} {_LOGS_OFF}"


def partial(archive: Path) -> Path:
    """The archive as this process's JVM writes it, moved into place once the JVM has exited."""
    return archive.with_name(f"{archive.name}.{os.getpid()}.part")


def stop_and_keep(archive: Path) -> None:
    """Stop this process's Spark session and JVM (which writes the archive as it exits), then
    move the archive into place. Quietly nothing if the JVM did not write it."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    gateway.shutdown()
    # a later session in this process launches a new JVM (a stopped context keeps the gateway)
    SparkContext._gateway = None
    SparkContext._jvm = None
    part = partial(archive)
    try:
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()  # the JVM exits when its stdin closes
            proc.wait(timeout=300)
        if part.is_file() and part.stat().st_size > 0:
            os.replace(part, archive)
    except (OSError, subprocess.SubprocessError):
        pass
    finally:
        part.unlink(missing_ok=True)
