"""Neo4j as the shared KG of distributed workers: one driver per worker process, pool settings exposed,
and the same answers from every worker as from one process. Runs against the real server (NEO4J_URI)."""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathkg.cli.kg_commands import app
from pathkg.kg.neo4j_driver import Neo4jSettings
from pathkg.kg.neo4j_store import Neo4jStore
from tests.kg.conftest import make_store, small_dump

pytestmark = pytest.mark.neo4j

QUERIES = [
    (["F:pearls"], ["D:scc"], 3),
    (["F:bridges"], ["F:pearls"], 2),
    (["F:vpi"], ["D:lusc"], 3),
    (["F:glands"], ["F:vpi"], 4),
    (["F:pearls", "F:bridges"], ["D:lusc", "D:hnsc"], 1),
]
WORKERS = 3
ROUNDS = 4

#: The parent's store, inherited by the forked workers (as a runner's stage object would be).
_inherited: Neo4jStore | None = None


def _answers(store: Neo4jStore) -> list[list[dict]]:
    return [[p.model_dump() for p in store.paths(s, t, max_hops=h, k=5)] for s, t, h in QUERIES]


def _worker(start: mp.synchronize.Barrier, out: mp.Queue) -> None:
    try:
        assert _inherited is not None
        start.wait(timeout=60)  # every worker queries at the same time
        results = []
        for _ in range(ROUNDS):
            results.append(_answers(_inherited))
            with Neo4jStore() as fresh:  # a second store in this worker shares its driver
                results.append(_answers(fresh))
                fresh_token = fresh.driver_token
        out.put((os.getpid(), _inherited.driver_token, fresh_token, results))
    except BaseException as exc:  # reported to the parent, which fails the test
        out.put((os.getpid(), "error", repr(exc), []))


def test_forked_workers_each_get_their_own_driver_and_the_same_answers(tmp_path: Path) -> None:
    global _inherited
    store = make_store("neo4j", tmp_path)
    assert isinstance(store, Neo4jStore)
    try:
        store.load(small_dump())
        expected = _answers(store)
        assert expected[0] and expected[3]  # the queries have answers
        parent_token = store.driver_token
        _inherited = store
        ctx = mp.get_context("fork")
        start, out = ctx.Barrier(WORKERS), ctx.Queue()
        workers = [ctx.Process(target=_worker, args=(start, out)) for _ in range(WORKERS)]
        for w in workers:
            w.start()
        got = [out.get(timeout=120) for _ in workers]
        for w in workers:
            w.join(timeout=30)
        # The parent's driver still works after its children used (and left) theirs.
        assert _answers(store) == expected
        assert store.driver_token == parent_token
    finally:
        _inherited = None
        store.close()
    pids = {pid for pid, *_ in got}
    assert len(pids) == WORKERS and os.getpid() not in pids
    for pid, inherited_token, fresh_token, results in got:
        assert inherited_token != "error", fresh_token
        # One driver per worker: made in that worker, shared by both its stores, not the parent's.
        assert inherited_token == fresh_token
        assert inherited_token.split("-")[0] == str(pid)
        assert inherited_token != parent_token
        assert results == [expected] * (2 * ROUNDS)
    assert len({token for _, token, _, _ in got}) == WORKERS


def test_stores_of_one_process_share_a_driver_until_the_last_closes(tmp_path: Path) -> None:
    first = make_store("neo4j", tmp_path)
    assert isinstance(first, Neo4jStore)
    second = Neo4jStore()
    token = first.driver_token
    assert second.driver_token == token
    first.close()
    assert second.stats().nodes == 0  # still connected
    second.close()
    with Neo4jStore() as third:
        assert third.driver_token != token  # the last close closed the driver; a new one was made


def test_pool_settings_from_arguments_environment_and_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEO4J_MAX_CONNECTION_POOL_SIZE", "7")
    monkeypatch.setenv("NEO4J_FETCH_SIZE", "250")
    settings = Neo4jSettings.resolve(connection_acquisition_timeout=5)
    assert (settings.max_connection_pool_size, settings.fetch_size, settings.connection_acquisition_timeout) == (
        7,
        250,
        5,
    )
    assert settings.uri == os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
    with Neo4jStore(settings=settings) as store:
        assert store.settings == settings
        # A store with other pool settings gets another driver.
        with Neo4jStore(settings=Neo4jSettings.resolve(max_connection_pool_size=3)) as other:
            assert other.driver_token != store.driver_token
    monkeypatch.setenv("NEO4J_MAX_CONNECTION_POOL_SIZE", "many")
    with pytest.raises(ValueError, match="NEO4J_MAX_CONNECTION_POOL_SIZE='many'"):
        Neo4jSettings.resolve()
    with pytest.raises(ValueError, match="fetch_size"):
        Neo4jSettings.resolve(max_connection_pool_size=2, fetch_size=0)
    monkeypatch.delenv("NEO4J_MAX_CONNECTION_POOL_SIZE")
    # The CLI options reach the store: a bad one is refused before anything is queried.
    result = CliRunner().invoke(app, ["--neo4j-pool-size", "0", "stats", "--backend", "neo4j"])
    assert result.exit_code == 2 and "max_connection_pool_size must be >= 1" in result.output
    result = CliRunner().invoke(
        app, ["--neo4j-pool-size", "4", "--neo4j-fetch-size", "100", "stats", "--backend", "neo4j", "--json"]
    )
    assert result.exit_code == 0, result.output
