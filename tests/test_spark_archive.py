"""The tests' Spark JVMs map Spark's classes from the archive ``make test`` makes
(``tests/spark_archive.py``)."""

from __future__ import annotations

import os

import pytest
import spark_archive
from engines import SPARK_TEST_CONFIG, spark_con


def test_options_name_the_archive_only_when_it_exists(tmp_path, monkeypatch):
    missing = tmp_path / "none.jsa"
    monkeypatch.setattr(spark_archive, "archive_path", lambda: missing)
    assert spark_archive.java_options() == spark_archive.JVM_OPTIONS
    missing.write_bytes(b"")
    assert spark_archive.java_options().endswith(f"-XX:SharedArchiveFile={missing} -Xshare:auto")


def test_the_spark_sessions_of_the_tests_start_with_the_archive():
    path = spark_archive.archive_path()
    if path is None or not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI: no Spark class archive at {path}: make test makes it (python tests/spark_archive.py)")
        pytest.skip("no Spark class archive: python tests/spark_archive.py makes it")
    assert f"-XX:SharedArchiveFile={path}" in SPARK_TEST_CONFIG["spark.driver.extraJavaOptions"]
    jvm = spark_con()._session.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={path}" in arguments
    assert "sharing" in jvm.java.lang.System.getProperty("java.vm.info")  # class data sharing is on
