"""Prometheus' multiprocess folder for the gunicorn gateway (set before any metric exists)."""

from __future__ import annotations

import os
import shutil

from shared.settings import Settings


def prepare_multiprocess_metrics(settings: Settings) -> None:
    """Metrics of all workers are aggregated through files in one folder.

    Must run before ``shared.metrics`` is first imported: prometheus_client
    picks its storage when a metric is created.
    """
    metrics_dir = settings.data_dir / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
