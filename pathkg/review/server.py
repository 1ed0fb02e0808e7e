"""The annotator web page: a queue with filters and counts, a sample view, accept / reject / edit.

Access: every request needs an annotator token (`Authorization: Bearer TOKEN`, or the cookie the login form
sets). Forms carry a CSRF token bound to the annotator's token (and cross-origin posts are refused); the
cookie is HttpOnly and SameSite=Strict. Images are served only when a queued sample references them and
they resolve inside the run directory. Saves carry the version the page was loaded at: a stale one is a 409.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import Counter
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from pathkg.review.audit_log import VersionConflict
from pathkg.review.kg_path_svg import path_svg
from pathkg.review.report_highlight import highlight
from pathkg.review.reverification import Reverifier
from pathkg.review.review_desk import ReviewDesk, ReviewError
from pathkg.review.review_state import SampleReview
from pathkg.review.tokens import AnnotatorTokens
from pathkg.rewards.chain_format import parse_chain
from schemas.review import RejectReason

COOKIE = "pathkg_review"
FILTERS = ("reason", "project", "question_type", "annotator", "status")
REJECT_REASONS: dict[str, str] = {
    "wrong_answer": "Wrong answer",
    "hallucinated_entity": "Hallucinated entity",
    "negation_error": "Negation error (asserts what the report denies)",
    "unsupported_reasoning": "Reasoning not supported by the findings / KG",
    "image_mismatch": "Does not match the image",
    "report_error": "Report extraction error",
    "phi": "Contains identifying information",
    "other": "Other (explain below)",
}
assert set(REJECT_REASONS) == set(get_args(RejectReason))
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


class NotAuthenticated(Exception):
    pass


class VerifyRequest(BaseModel):
    response: str


class DecisionRequest(BaseModel):
    decision: str
    version: int
    reason: RejectReason | None = None
    note: str | None = None
    response: str | None = None


def _facets(state: SampleReview) -> dict[str, list[str]]:
    return {
        "reason": [c.name for c in state.sample.verification.checks if not c.passed] or ["-"],
        "project": [state.sample.project or "-"],
        "question_type": [state.sample.question_type],
        "annotator": state.annotators or ["-"],
        "status": [state.status],
    }


def filter_queue(states: list[SampleReview], chosen: dict[str, str]) -> tuple[list[SampleReview], dict]:
    """The samples matching every chosen facet, and per facet the counts among samples matching the others."""
    facets = [(s, _facets(s)) for s in states]

    def matches(f: dict[str, list[str]], skip: str | None = None) -> bool:
        return all(v in f[k] for k, v in chosen.items() if v and k != skip)

    counts = {}
    for key in FILTERS:
        counter: Counter[str] = Counter()
        for _, f in facets:
            if matches(f, skip=key):
                counter.update(set(f[key]))
        counts[key] = dict(sorted(counter.items()))
    return [s for s, f in facets if matches(f)], counts


def create_app(run_dir: Path, kg_dump: Path | None = None) -> FastAPI:
    run_dir = Path(run_dir).resolve()
    desk = ReviewDesk(run_dir, Reverifier(kg_dump) if kg_dump else None)
    if desk.reverifier is not None:  # the linker takes seconds to load: not on the first edit's clock
        threading.Thread(target=desk.reverifier.warm, name="reverifier-warmup", daemon=True).start()
    tokens = AnnotatorTokens.for_run(run_dir)
    secret = secrets.token_bytes(32)
    templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    app = FastAPI(title="pathkg review", docs_url=None, redoc_url=None, openapi_url=None)

    def csrf_for(token: str) -> str:
        return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()[:32]

    def auth(request: Request) -> tuple[str, str, bool]:
        """(annotator, token, came_from_cookie); NotAuthenticated otherwise."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token, cookie = header[7:].strip(), False
        else:
            token, cookie = request.cookies.get(COOKIE, ""), True
        name = tokens.annotator_for(token)
        if name is None:
            raise NotAuthenticated()
        return name, token, cookie

    def check_post(request: Request, token: str, cookie: bool, csrf: str | None) -> None:
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            raise HTTPException(403, "cross-origin request refused")
        if cookie and not (csrf and hmac.compare_digest(csrf, csrf_for(token))):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page")

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        nonce = secrets.token_urlsafe(12)
        response = templates.TemplateResponse(request, name, {"nonce": nonce, **context}, status_code=status)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def wants_html(request: Request) -> bool:
        return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")

    @app.exception_handler(NotAuthenticated)
    async def _unauthenticated(request: Request, exc: NotAuthenticated) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="pathkg review"'}
        if wants_html(request):
            response = page(request, "login.html", {"next": request.url.path, "error": None}, status=401)
            response.headers.update(headers)
            return response
        return JSONResponse({"detail": "annotator token required"}, status_code=401, headers=headers)

    @app.exception_handler(VersionConflict)
    async def _conflict(request: Request, exc: VersionConflict) -> Response:
        if wants_html(request):
            state = desk.states().get(exc.sample_id)
            return page(
                request,
                "message.html",
                {"title": "Conflict", "message": str(exc), "state": state, "link": f"/samples/{exc.sample_id}"},
                status=409,
            )
        return JSONResponse({"detail": str(exc), "current_version": exc.current}, status_code=409)

    @app.exception_handler(ReviewError)
    async def _review_error(request: Request, exc: ReviewError) -> Response:
        code = 404 if str(exc).startswith("no sample") else 422
        if wants_html(request):
            return page(
                request,
                "message.html",
                {"title": "Cannot do that", "message": str(exc), "state": None, "link": "/"},
                status=code,
            )
        return JSONResponse({"detail": str(exc)}, status_code=code)

    @app.post("/login")
    def login(request: Request, token: str = Form(""), next: str = Form("/")) -> Response:
        check_post(request, token, cookie=False, csrf=None)
        if tokens.annotator_for(token) is None:
            return page(request, "login.html", {"next": next, "error": "Unknown token."}, status=401)
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/", max_age=12 * 3600)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        _, token, cookie = auth(request)
        check_post(request, token, cookie, csrf)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def chosen_filters(request: Request) -> dict[str, str]:
        return {k: request.query_params.get(k, "") for k in FILTERS if request.query_params.get(k)}

    @app.get("/", response_class=HTMLResponse)
    def queue_view(request: Request) -> Response:
        annotator, token, _ = auth(request)
        chosen = chosen_filters(request)
        states = list(desk.states().values())
        shown, counts = filter_queue(states, chosen)
        return page(
            request,
            "queue.html",
            {
                "annotator": annotator,
                "csrf": csrf_for(token),
                "rows": shown,
                "total": len(states),
                "counts": counts,
                "chosen": chosen,
                "filters": FILTERS,
                "qs": urlencode(chosen),
                "done": request.query_params.get("done"),
                "status_totals": Counter(s.status for s in states),
            },
        )

    @app.get("/samples/{sample_id}", response_class=HTMLResponse)
    def sample_view(request: Request, sample_id: str) -> Response:
        annotator, token, _ = auth(request)
        chosen = chosen_filters(request)
        state = desk.state(sample_id)
        shown, _ = filter_queue(list(desk.states().values()), chosen)
        ids = [s.sample.sample_id for s in shown]
        at = ids.index(sample_id) if sample_id in ids else -1
        s = state.sample
        chain = parse_chain(state.response)
        return page(
            request,
            "sample.html",
            {
                "annotator": annotator,
                "csrf": csrf_for(token),
                "state": state,
                "s": s,
                "chain": chain,
                "findings_html": highlight(" ".join(s.findings), s.description_entities),
                "diagnosis_html": highlight(s.diagnosis, s.diagnosis_entities),
                "graph": path_svg(
                    s.kg_paths, {e.kg_id for e in s.description_entities}, {e.kg_id for e in s.diagnosis_entities}
                ),
                "reasons": REJECT_REASONS,
                "qs": urlencode(chosen),
                "prev_id": ids[at - 1] if at > 0 else None,
                "next_id": ids[at + 1] if 0 <= at < len(ids) - 1 else None,
                "position": at + 1,
                "count": len(ids),
                "can_edit": desk.reverifier is not None,
            },
        )

    def after_decision(request: Request, sample_id: str, qs: str, done: str) -> Response:
        chosen = {k: v for k, v in (p.split("=", 1) for p in qs.split("&") if "=" in p) if k in FILTERS}
        shown, _ = filter_queue(list(desk.states().values()), chosen)
        pending = [st.sample.sample_id for st in shown if st.status == "pending"]
        query = urlencode({**chosen, "done": f"{done}:{sample_id}"})
        target = f"/samples/{pending[0]}?{query}" if pending else f"/?{query}"
        return RedirectResponse(target, status_code=303)

    @app.post("/samples/{sample_id}/accept")
    def accept(
        request: Request,
        sample_id: str,
        version: int = Form(...),
        csrf: str = Form(""),
        note: str = Form(""),
        qs: str = Form(""),
    ) -> Response:
        annotator, token, cookie = auth(request)
        check_post(request, token, cookie, csrf)
        desk.accept(sample_id, annotator, version, note=note.strip() or None)
        return after_decision(request, sample_id, qs, "accepted")

    @app.post("/samples/{sample_id}/reject")
    def reject(
        request: Request,
        sample_id: str,
        version: int = Form(...),
        reason: str = Form(...),
        csrf: str = Form(""),
        note: str = Form(""),
        qs: str = Form(""),
    ) -> Response:
        annotator, token, cookie = auth(request)
        check_post(request, token, cookie, csrf)
        if reason not in REJECT_REASONS:
            raise ReviewError(f"unknown reject reason {reason!r}; one of {', '.join(REJECT_REASONS)}")
        if reason == "other" and not note.strip():
            raise ReviewError("a rejection for 'other' needs a note saying why")
        desk.reject(sample_id, annotator, version, reason, note=note.strip() or None)  # type: ignore[arg-type]
        return after_decision(request, sample_id, qs, "rejected")

    @app.post("/samples/{sample_id}/edit")
    def edit(
        request: Request,
        sample_id: str,
        version: int = Form(...),
        response: str = Form(...),
        csrf: str = Form(""),
        note: str = Form(""),
        qs: str = Form(""),
    ) -> Response:
        annotator, token, cookie = auth(request)
        check_post(request, token, cookie, csrf)
        desk.edit(sample_id, annotator, version, response, note=note.strip() or None)
        return RedirectResponse(f"/samples/{sample_id}?{qs}{'&' if qs else ''}done=edited", status_code=303)

    @app.post("/api/samples/{sample_id}/verify")
    def verify(request: Request, sample_id: str, body: VerifyRequest) -> dict[str, Any]:
        _, token, cookie = auth(request)
        check_post(request, token, cookie, request.headers.get("x-csrf-token"))
        verification = desk.preview(sample_id, body.response.replace("\r\n", "\n").strip())
        return verification.model_dump(mode="json")

    @app.get("/api/queue")
    def api_queue(request: Request) -> list[dict[str, Any]]:
        auth(request)
        shown, _ = filter_queue(list(desk.states().values()), chosen_filters(request))
        return [_state_json(st) for st in shown]

    @app.get("/api/samples/{sample_id}")
    def api_sample(request: Request, sample_id: str) -> dict[str, Any]:
        auth(request)
        st = desk.state(sample_id)
        return {
            **_state_json(st),
            "response": st.response,
            "verification": st.verification.model_dump(mode="json"),
            "decisions": [d.model_dump(mode="json") for d in st.decisions],
        }

    @app.post("/api/samples/{sample_id}/decisions")
    def api_decide(request: Request, sample_id: str, body: DecisionRequest) -> dict[str, Any]:
        annotator, token, cookie = auth(request)
        check_post(request, token, cookie, request.headers.get("x-csrf-token"))
        if body.decision == "accept":
            d = desk.accept(sample_id, annotator, body.version, note=body.note)
        elif body.decision == "reject":
            if body.reason is None:
                raise ReviewError("a rejection needs a reason")
            d = desk.reject(sample_id, annotator, body.version, body.reason, note=body.note)
        elif body.decision == "edit" and body.response is not None:
            d = desk.edit(sample_id, annotator, body.version, body.response, note=body.note)
        else:
            raise ReviewError("decision must be accept, reject (with reason) or edit (with response)")
        return d.model_dump(mode="json")

    referenced: dict[str, Path] = {}

    @app.get("/images/{image_path:path}")
    def image(request: Request, image_path: str) -> Response:
        auth(request)
        if not referenced or image_path not in referenced:
            referenced.clear()
            for s in desk.queue():
                for ref in s.images:
                    referenced[ref.path] = (run_dir / ref.path).resolve()
        target = referenced.get(image_path)
        if (
            target is None
            or ".." in Path(image_path).parts
            or not target.is_relative_to(run_dir)
            or target.suffix.lower() not in IMAGE_SUFFIXES
            or not target.is_file()
        ):
            raise HTTPException(404, "no such image")
        return FileResponse(target, headers={"Cache-Control": "private, max-age=3600"})

    return app


def _state_json(st: SampleReview) -> dict[str, Any]:
    s = st.sample
    return {
        "sample_id": s.sample_id,
        "case_id": s.case_id,
        "project": s.project,
        "question_type": s.question_type,
        "status": st.status,
        "version": st.version,
        "annotators": st.annotators,
        "flag_reasons": s.verification.reasons,
        "verification_status": st.verification.status,
        "exportable": st.exportable,
    }


def serve(run_dir: Path, host: str = "127.0.0.1", port: int = 8765, kg_dump: Path | None = None) -> None:
    """Run the review server until interrupted (uvicorn, one process)."""
    import uvicorn

    uvicorn.run(create_app(run_dir, kg_dump), host=host, port=port, log_level="warning", access_log=False)
