"""A class-data-sharing archive of Spark's JVM classes, made once per environment, so that each
Spark JVM the tests start (one per xdist worker, one per notebook of the Spark run) maps the
classes instead of loading and verifying them one by one.

Measured here on the Spark route's own work (start ``local[2]``, customer features three times
on 1,500 customers, two runs each): the start takes 3.7-4.0 s instead of 8.3-9.9 s, and the
whole process 28-31 CPU seconds instead of 37-46.

``make test`` runs ``python tests/spark_archive.py`` before pytest: it makes the archive when it
is missing (one Spark process with ``-XX:ArchiveClassesAtExit``: 48 s and 142 MiB here) and does
nothing otherwise. The archive is keyed by the pyspark version and the Java binary, and the JVM
checks it again on every start: one that does not match is ignored (the JVM then loads the
classes itself, as without it). Without pyspark or Java nothing is made, and the Spark tests
skip or fail as they say.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["archive_path", "java_options", "make_archive", "stop_jvm"]

#: The JVM settings of the tests' Spark sessions (see ``engines.SPARK_TEST_CONFIG``): one JIT
#: tier and the serial collector start the JVM and its first queries faster.
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def _java() -> Path | None:
    """The Java binary Spark will start (``JAVA_HOME``'s, else ``java`` on PATH), resolved."""
    home = os.environ.get("JAVA_HOME")
    found = Path(home) / "bin" / "java" if home else (Path(p) if (p := shutil.which("java")) else None)
    return found.resolve() if found is not None and found.exists() else None


def archive_path() -> Path | None:
    """Where the archive of this environment is (or would be): under ``sys.prefix``, named by
    the pyspark version and the Java binary; ``None`` without pyspark or Java."""
    try:
        from importlib.metadata import version

        pyspark = version("pyspark")
    except Exception:
        return None
    java = _java()
    if java is None:
        return None
    stat = java.stat()
    key = hashlib.sha256(f"{java}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return Path(sys.prefix) / "spark-cds" / f"pyspark-{pyspark}-java-{key}.jsa"


def java_options() -> str:
    """The driver's Java options for the tests' Spark sessions: :data:`JVM_OPTIONS`, and the
    archive when it has been made."""
    path = archive_path()
    if path is None or not path.exists():
        return JVM_OPTIONS
    return f"{JVM_OPTIONS} -XX:SharedArchiveFile={path} -Xshare:auto"


def stop_jvm(gateway: Any, *, timeout: float) -> None:
    """Shut down a py4j gateway that pyspark started (``launch_gateway``) and wait for its JVM
    to exit: it exits at the end of its standard input, after Python has returned, and a JVM
    under ``-XX:ArchiveClassesAtExit`` writes its archive then.

    Parameters
    ----------
    gateway : py4j.java_gateway.JavaGateway
        With ``proc``, the JVM's process.
    timeout : float
        Seconds to wait for the JVM.
    """
    gateway.shutdown()
    gateway.proc.stdin.close()
    gateway.proc.wait(timeout=timeout)


def make_archive() -> str:
    """Make the archive when it is missing; what was done, in words."""
    path = archive_path()
    if path is None:
        return "spark archive: no pyspark or no Java, nothing made"
    if path.exists():
        return f"spark archive: {path} (already made)"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    started = time.perf_counter()
    here = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, __file__, "--work", f"{JVM_OPTIONS} -XX:ArchiveClassesAtExit={partial}"],
        capture_output=True, text=True, cwd=here, timeout=600,
    )  # fmt: skip
    if done.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        return "spark archive: not made (the tests run without it): " + " | ".join(tail)
    partial.replace(path)  # atomic: a reader sees the whole archive or none
    return f"spark archive: made {path} in {time.perf_counter() - started:.0f} s ({path.stat().st_size / 2**20:.0f} MiB)"


def _work(java_opts: str) -> None:
    """The work whose classes go into the archive: a session as the tests open it, and the
    engine computations the notebooks start with (features, churn frame, attribution)."""
    import warnings

    from report_fixture import SPARK_CONFIG

    from workbench import campaign, churn
    from workbench.data import engine, features
    from workbench.synth import generate

    warnings.simplefilter("ignore")
    base = generate(n_customers=400, seed=3)
    config = {**SPARK_CONFIG, "spark.driver.extraJavaOptions": java_opts}  # the Spark notebooks' settings
    con = engine.connect(backend="spark", master="local[2]", config=config)
    features.customer_features(base.orders, as_of="2025-09-30", customers=base.customers, con=con)
    churn.churn_frame(base.customers, base.orders, as_of="2025-09-30", tickets=base.tickets, con=con)
    campaign.prepare_contacts(base.campaign_contacts, orders=base.orders, as_of="2025-09-30", con=con)
    from pyspark import SparkContext

    engine.close(con)
    stop_jvm(SparkContext._gateway, timeout=300)  # so the archive is whole when this returns


if __name__ == "__main__":
    if sys.argv[1:2] == ["--work"]:
        _work(sys.argv[2])
    else:
        print(make_archive())
