"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright): sign in with a
token, accept one sample, edit one until it passes, reject one; then the audit log, the derived state and
the next export of the real runner. Screenshots land in runs/review-tests/screenshots/."""

from __future__ import annotations

import http.client
import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import expect  # a missing package fails the test, never skips it

from pathkg.review.audit_log import AuditLog
from pathkg.review.review_state import derive_states, load_queue
from tests.review.review_run import GOOD_CHAIN, build_run, run_pipeline
from tests.review.review_server import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, add_annotator, review_server

SCREENSHOTS = REPO_ROOT / "runs" / "review-tests" / "screenshots"


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: apt-get install -y chromium (make test does it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def raw_get(base: str, path: str, token: str) -> int:
    """A GET with the path sent as written (no client-side `..` normalisation)."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    status = conn.getresponse().status
    conn.close()
    return status


def test_review_in_the_browser_then_export(tmp_path, chromium):
    run_dir = tmp_path / "run"
    config, dump, samples = build_run(run_dir)
    export_before = {r["sample_id"] for r in pq.read_table(run_dir / "export" / "data").to_pylist()}
    assert export_before == {"rv00-pass-1", "rv01-pass-2"}
    assert [s.sample_id for s in load_queue(run_dir)] == ["rv02-necrosis", "rv03-hallucination", "rv04-thin"]
    alice, bob = add_annotator(run_dir, "alice"), add_annotator(run_dir, "bob")
    shots = SCREENSHOTS
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)

    with review_server(run_dir, dump) as (_, base):
        # --- access control ------------------------------------------------------------------
        assert httpx.get(base + "/").status_code == 401
        assert httpx.get(base + "/api/queue").status_code == 401
        assert httpx.get(base + "/api/queue", headers={"Authorization": "Bearer wrong"}).status_code == 401
        thumb = "work/slides/TCGA-RV-0002/thumbnail.png"
        assert httpx.get(f"{base}/images/{thumb}").status_code == 401
        assert raw_get(base, f"/images/{thumb}", alice) == 200
        assert raw_get(base, "/images/../run-config.yaml", alice) == 404
        assert raw_get(base, "/images/work/../../run-config.yaml", alice) == 404
        assert raw_get(base, "/images/..%2F..%2Fetc%2Fpasswd", alice) == 404
        assert raw_get(base, "/images/manifest.json", alice) == 404  # in the run dir, but not an image
        api = httpx.get(base + "/api/queue", headers={"Authorization": f"Bearer {alice}"}).json()
        assert [(r["sample_id"], r["status"], r["version"]) for r in api] == [
            ("rv02-necrosis", "pending", 0),
            ("rv03-hallucination", "pending", 0),
            ("rv04-thin", "pending", 0),
        ]

        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        # --- sign in ---------------------------------------------------------------------------
        response = page.goto(base + "/")
        assert response.status == 401 and page.locator("#token").is_visible()
        page.fill("#token", "not-a-token")
        page.click("#sign-in")
        assert "Unknown token" in page.content()
        page.fill("#token", alice)
        page.click("#sign-in")
        page.wait_for_selector("#queue")
        assert page.inner_text("#annotator") == "alice"
        assert page.locator("#queue tbody tr[data-sample-id]").count() == 3
        assert "3 shown of 3" in page.inner_text("#counts")
        # Filters with counts: the flag reason facet lists each failed check once per sample.
        options = page.locator("#filter-reason option").all_inner_texts()
        assert options == ["all", "entity (1)", "negation (1)", "unsupported_entities (1)"]
        page.select_option("#filter-reason", "negation")
        page.wait_for_url("**/?**reason=negation**")
        assert page.locator("#queue tbody tr[data-sample-id]").count() == 1
        page.goto(base + "/?project=TCGA-LUSC")
        assert page.locator("#queue tbody tr[data-sample-id]").count() == 2  # rv02, rv04
        page.goto(base + "/")
        page.screenshot(path=str(shots / "queue.png"), full_page=True)

        # --- keyboard navigation: j moves down, Enter opens --------------------------------------
        page.keyboard.press("j")
        assert page.locator("tr.sel").get_attribute("data-sample-id") == "rv03-hallucination"
        page.keyboard.press("k")
        page.keyboard.press("Enter")
        page.wait_for_url("**/samples/rv02-necrosis")

        # --- the sample view ---------------------------------------------------------------------
        assert page.locator("#images img").count() == 4  # thumbnail + 3 tiles
        assert page.evaluate("document.querySelector('#images img').naturalWidth") == 320  # the image loaded
        page.locator("#images img").first.click()
        assert page.locator("#zoom").evaluate("d => d.open")
        page.keyboard.press("Escape")
        assert not page.locator("#zoom").evaluate("d => d.open")
        negated = page.locator("#findings mark.neg").all_inner_texts()
        assert negated == ["necrosis"]
        assert "keratin pearls" in [t.lower() for t in page.locator("#findings mark.ent").all_inner_texts()]
        assert page.locator("#kg-graph svg .kg-node").count() == 5
        assert page.locator("#kg-graph svg .kg-edge").count() == 4
        assert "SUPPORTS" in page.inner_text("#kg-graph")
        assert page.inner_text("#checks tr[data-check=negation] td.res") == "FAIL"
        assert "tumour necrosis" in page.inner_text("#checks tr[data-check=negation]")
        assert page.locator("#chain .b-observe").count() == 1 and page.locator("#chain .b-answer").count() == 1
        page.screenshot(path=str(shots / "sample.png"), full_page=True)

        # --- edit until it passes: re-verified and shown before saving ---------------------------
        assert page.locator("#save-edit").is_disabled()
        page.fill("#response", GOOD_CHAIN.replace("squamous cell carcinoma.</think>", "adenocarcinoma.</think>"))
        page.click("#reverify")
        page.wait_for_selector("#preview:not([hidden])")
        assert page.inner_text("#preview-status") == "flagged"
        assert page.inner_text("#preview-checks tr[data-check=unsupported_entities] td.res") == "FAIL"
        page.fill("#response", GOOD_CHAIN)
        assert page.locator("#save-edit").is_disabled()  # changed since the last re-verification
        page.locator("#response").press("Control+Enter")
        expect(page.locator("#preview-status")).to_have_text("pass")
        assert page.inner_text("#preview-checks tr[data-check=negation] td.res") == "pass"
        page.screenshot(path=str(shots / "sample-edit-preview.png"), full_page=True)
        page.click("#save-edit")
        page.wait_for_selector("#flash")
        assert page.inner_text("#status") == "edited"
        assert page.inner_text("#verification-status") == "pass"

        # --- reject one with a reason -------------------------------------------------------------
        page.goto(base + "/samples/rv03-hallucination")
        page.select_option("#reject-reason", "hallucinated_entity")
        page.fill("#reject-note", "adenocarcinoma is not in the report")
        page.click("#reject")
        page.wait_for_url("**/samples/rv04-thin?done=rejected*")  # on to the next pending sample

        # --- a stale save is a conflict, not an overwrite ----------------------------------------
        bob_saves = httpx.post(
            f"{base}/api/samples/rv04-thin/decisions",
            headers={"Authorization": f"Bearer {bob}"},
            json={"decision": "reject", "version": 0, "reason": "wrong_answer"},
        )
        assert bob_saves.status_code == 200, bob_saves.text
        response_conflict = None

        def on_response(r):
            nonlocal response_conflict
            if r.url.endswith("/samples/rv04-thin/accept"):
                response_conflict = r.status

        page.on("response", on_response)
        page.click("#accept")  # alice's page still holds version 0
        page.wait_for_selector("#message")
        assert response_conflict == 409 and "changed since it was loaded" in page.inner_text("#message")
        assert "bob" in page.content()
        page.click("#reload")
        page.wait_for_url("**/samples/rv04-thin")
        assert page.inner_text("#status") == "rejected"
        page.fill("#accept-form input[name=note]", "recall is low but the chain is right")
        page.click("#accept")  # now against version 1
        page.wait_for_url("**/?done=accepted*")
        assert page.locator("#flash").is_visible()
        page.screenshot(path=str(shots / "queue-after.png"), full_page=True)

        # --- CSRF: a cookie without the form token, or from another origin, is refused ------------
        cookie = {"Cookie": f"pathkg_review={alice}"}
        no_csrf = httpx.post(f"{base}/samples/rv03-hallucination/accept", headers=cookie, data={"version": "1"})
        assert no_csrf.status_code == 403
        csrf = page.locator("input[name=csrf]").first.get_attribute("value")
        cross = httpx.post(
            f"{base}/samples/rv03-hallucination/accept",
            data={"version": "1", "csrf": csrf},
            headers={**cookie, "Origin": "http://evil.example"},
        )
        assert cross.status_code == 403
        page.close()

    # --- the audit log and the state derived from it -----------------------------------------------
    log = AuditLog.for_run(run_dir).read()
    assert log.ignored == []
    got = [(d.sample_id, d.annotator, d.decision, d.status_before, d.status_after, d.version) for d in log.decisions]
    assert got == [
        ("rv02-necrosis", "alice", "edit", "pending", "edited", 0),
        ("rv03-hallucination", "alice", "reject", "pending", "rejected", 0),
        ("rv04-thin", "bob", "reject", "pending", "rejected", 0),
        ("rv04-thin", "alice", "accept", "rejected", "accepted", 1),
    ]
    edit = log.decisions[0]
    assert edit.response_after == GOOD_CHAIN and edit.verification_after.status == "pass"
    assert edit.response_before == samples[2].response and edit.via == "web"
    assert log.decisions[1].reason == "hallucinated_entity" and "adenocarcinoma" in log.decisions[1].note
    lines = (run_dir / "review" / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line)["sha256"] for line in lines)
    states = derive_states(load_queue(run_dir), log.decisions)
    assert {k: (v.status, v.version, v.exportable) for k, v in states.items()} == {
        "rv02-necrosis": ("edited", 1, True),
        "rv03-hallucination": ("rejected", 1, False),
        "rv04-thin": ("accepted", 2, True),
    }

    # --- the next export: the runner reruns the export stage because decisions changed --------------
    assert run_pipeline(config, run_dir) == {"samples": 0, "export": 1}  # only the export reruns
    rows = {r["sample_id"]: r for r in pq.read_table(run_dir / "export" / "data").to_pylist()}
    assert set(rows) == {"rv00-pass-1", "rv01-pass-2", "rv02-necrosis", "rv04-thin"}  # never rv03
    assert rows["rv02-necrosis"]["response"] == GOOD_CHAIN
    assert rows["rv02-necrosis"]["verification"]["status"] == "pass"
    assert (
        rows["rv02-necrosis"]["review"]["status"] == "edited"
        and rows["rv02-necrosis"]["review"]["annotator"] == "alice"
    )
    assert rows["rv04-thin"]["review"]["status"] == "accepted"
    assert rows["rv04-thin"]["review"]["decision"] == "accept: recall is low but the chain is right"
    assert rows["rv00-pass-1"]["review"]["status"] == "none"
    # The queue is unchanged by the export's rerun, so the decisions still apply to it.
    assert [s.sample_id for s in load_queue(run_dir)] == ["rv02-necrosis", "rv03-hallucination", "rv04-thin"]
    assert run_pipeline(config, run_dir) == {"samples": 0, "export": 0}  # no new decision: nothing reruns
