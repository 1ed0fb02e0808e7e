"""One Neo4j driver per process, shared by every `Neo4jStore` of that process with the same settings.

A driver holds a connection pool; it is thread-safe but must not cross a `fork`: a child that used its
parent's driver would write on the parent's sockets. Drivers are therefore cached per process id: a
forked worker (multiprocessing, the runner's process pool, Ray) that reaches for a driver gets a new
one of its own, and the inherited one is dropped without being closed (closing it would close the
parent's connections too). Stores share their process's driver and release it when closed; the last
release closes it.

Connection-pool settings come from arguments, else the environment (`NEO4J_*`, see `Neo4jSettings`).
"""

from __future__ import annotations

import itertools
import os
import threading
from dataclasses import dataclass, fields, replace

import neo4j

DEFAULT_URI = "bolt://127.0.0.1:7687"

#: Setting -> environment variable read when the setting is not given.
ENVIRONMENT = {
    "uri": "NEO4J_URI",
    "user": "NEO4J_USER",
    "password": "NEO4J_PASSWORD",
    "database": "NEO4J_DATABASE",
    "max_connection_pool_size": "NEO4J_MAX_CONNECTION_POOL_SIZE",
    "connection_acquisition_timeout": "NEO4J_CONNECTION_ACQUISITION_TIMEOUT",
    "max_connection_lifetime": "NEO4J_MAX_CONNECTION_LIFETIME",
    "fetch_size": "NEO4J_FETCH_SIZE",
}


@dataclass(frozen=True)
class Neo4jSettings:
    """Where the server is and how each process's driver pools its connections.

    `max_connection_pool_size`: connections per process (a worker needs one per thread that queries at
    once; the server's Bolt thread pool bounds the total over all workers). `connection_acquisition_timeout`
    (s): how long a query waits for a free connection before failing. `max_connection_lifetime` (s): older
    connections are replaced (below any firewall/load-balancer idle cut). `fetch_size`: records pulled per
    round trip in a session."""

    uri: str = DEFAULT_URI
    user: str = "neo4j"
    password: str = "neo4j"
    database: str | None = None
    max_connection_pool_size: int = 100
    connection_acquisition_timeout: float = 60.0
    max_connection_lifetime: float = 3600.0
    fetch_size: int = 1000

    @classmethod
    def resolve(cls, **given: object) -> Neo4jSettings:
        """Each setting from `given` when not None, else its environment variable, else the default."""
        values: dict[str, object] = {}
        for spec in fields(cls):
            value = given.pop(spec.name, None)
            if value is None:
                raw = os.environ.get(ENVIRONMENT[spec.name])
                if raw:
                    kind = str if spec.name == "database" else type(getattr(cls, spec.name))
                    value = _parse(spec.name, raw, kind)
            if value is not None:
                values[spec.name] = value
        if given:
            raise TypeError(f"unknown Neo4j setting(s): {', '.join(sorted(given))}")
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if self.max_connection_pool_size < 1:
            raise ValueError(f"max_connection_pool_size must be >= 1, not {self.max_connection_pool_size}")
        if self.connection_acquisition_timeout <= 0 or self.max_connection_lifetime <= 0:
            raise ValueError("connection_acquisition_timeout and max_connection_lifetime must be > 0 seconds")
        if self.fetch_size == 0 or self.fetch_size < -1:
            raise ValueError(f"fetch_size must be >= 1 (or -1 for all), not {self.fetch_size}")

    def with_database(self, database: str | None) -> Neo4jSettings:
        return replace(self, database=database)


def _parse(name: str, raw: str, kind: type) -> object:
    try:
        return kind(raw.strip())
    except ValueError:
        raise ValueError(f"{ENVIRONMENT[name]}={raw!r} is not a valid {kind.__name__}") from None


@dataclass
class SharedDriver:
    """A process's driver for one set of settings; `token` names it uniquely (`pid-serial`)."""

    driver: neo4j.Driver
    pid: int
    token: str
    users: int = 0


_lock = threading.Lock()
_serial = itertools.count(1)
_drivers: dict[Neo4jSettings, SharedDriver] = {}
_owner_pid = os.getpid()


def _forget_inherited() -> None:
    """Drop (never close) the drivers a parent process made."""
    global _owner_pid
    _drivers.clear()
    _owner_pid = os.getpid()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # the parent's lock may have been held by another thread at fork time
    _forget_inherited()


os.register_at_fork(after_in_child=_after_fork_in_child)


def acquire(settings: Neo4jSettings) -> SharedDriver:
    """This process's driver for `settings`, made on first use; pair each call with `release`."""
    with _lock:
        if _owner_pid != os.getpid():  # a process started otherwise than by os.fork (belt and braces)
            _forget_inherited()
        shared = _drivers.get(settings)
        if shared is None:
            driver = neo4j.GraphDatabase.driver(
                settings.uri,
                auth=(settings.user, settings.password),
                max_connection_pool_size=settings.max_connection_pool_size,
                connection_acquisition_timeout=settings.connection_acquisition_timeout,
                max_connection_lifetime=settings.max_connection_lifetime,
                # Notifications (deprecations, "unknown relationship type" before a load) are not errors here.
                notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
            )
            shared = SharedDriver(driver, os.getpid(), f"{os.getpid()}-{next(_serial)}")
            _drivers[settings] = shared
        shared.users += 1
        return shared


def release(settings: Neo4jSettings, shared: SharedDriver) -> None:
    """Give back a driver from `acquire`; the last user of this process closes it. A driver inherited
    from a parent process is left alone."""
    with _lock:
        if shared.pid != os.getpid():
            return
        shared.users -= 1
        if shared.users <= 0 and _drivers.get(settings) is shared:
            del _drivers[settings]
            shared.driver.close()
