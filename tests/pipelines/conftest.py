"""A local Ray instance shared by every Ray test of the session (starting one takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def ray_local() -> Iterator[Any]:
    """Ray on this machine: 2 CPUs, loopback only, no dashboard. Ray missing is a failure, not a skip."""
    import ray

    if not ray.is_initialized():
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            configure_logging=False,
            log_to_driver=False,
        )
    yield ray
    ray.shutdown()
