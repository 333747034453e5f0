"""``/app/model``: the published model, its versions and diffs, and the draft editor.

Validate parses the draft (every problem at its line and column), Preview runs the dry-run
publish (``service.preview``), Publish (admin only) publishes it with a change note.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, YamlLexer
from starlette.concurrency import run_in_threadpool

from leadgate.errors import LeadgateError, ModelError
from leadgate.model import parse_model
from leadgate.service import diff_models, list_models, publish_model
from leadgate.service.models import model_yaml
from leadgate.service.preview import preview_model
from leadgate.web import charts
from leadgate.web.guard import Viewer, config_of, posted_form, sign_in_check
from leadgate.web.render import page

router = APIRouter()
DRAFT_NAME = "draft"
MAX_DRAFT = 512 * 1024


def _highlight(text: str, lexer: Any) -> Markup:
    # Pygments escapes the text it wraps in spans; the result is safe to embed.
    return Markup(highlight(text, lexer, HtmlFormatter(cssclass="hl")))


async def _model_page(
    request: Request, viewer: Viewer, *, draft: str | None = None, status: int = 200,
    **results: Any,
) -> Response:  # fmt: skip
    store = config_of(request).store
    versions = await run_in_threadpool(list_models, store)
    active = versions[-1] if versions else None
    text = await run_in_threadpool(model_yaml, store, str(active.id)) if active else ""
    q = request.query_params
    diff, diff_error = None, None
    a, b = q.get("a"), q.get("b")
    if a and b:
        try:
            diff = await run_in_threadpool(diff_models, store, a, b)
        except LeadgateError as exc:
            diff_error = str(exc)
    if draft is None:
        draft = viewer.session.draft or text
    return page(
        request, viewer, "model.html", title="Model", status=status, versions=versions,
        active=active, highlighted=_highlight(text, YamlLexer()) if text else None, diff=diff,
        diff_html=_highlight(diff.yaml_diff, DiffLexer()) if diff and diff.yaml_diff else None,
        diff_error=diff_error, a=a, b=b, draft=draft,
        can_draft=viewer.may("models:draft"), can_publish=viewer.may("models:write"), **results,
    )  # fmt: skip


@router.get("/model")
async def model(request: Request) -> Response:
    """The published model, its versions, a diff between two, and the draft editor."""
    viewer = await sign_in_check(request, "models:read")
    return await _model_page(request, viewer)


def _problems(text: str, exc: ModelError) -> list[dict[str, Any]]:
    lines = text.splitlines()
    out = []
    for p in exc.problems:
        source = lines[p.line - 1] if p.line and 0 < p.line <= len(lines) else None
        out.append({"line": p.line, "column": p.column, "text": str(p), "source": source})
    return out


@router.post("/model/draft")
async def draft(request: Request) -> Response:
    """Validate, preview or publish the draft in the editor."""
    viewer = await sign_in_check(request, "models:draft")
    form = await posted_form(request, viewer)
    text = form.get("yaml").replace("\r\n", "\n")
    action = form.get("do", "validate")
    if action == "publish" and not viewer.may("models:write"):
        raise HTTPException(403, f"role '{viewer.role}' may not publish a model (admin only)")
    if len(text) > MAX_DRAFT:
        raise HTTPException(413, f"the draft is over {MAX_DRAFT // 1024} KiB")
    if "\n" not in text:
        text += "\n"  # YAML text, never a path on the server (see read_model_source)
    viewer.session.draft = text
    try:
        parsed = parse_model(text, DRAFT_NAME)
    except ModelError as exc:
        return await _model_page(
            request, viewer, draft=text, status=422, problems=_problems(text, exc)
        )
    if action == "validate":
        return await _model_page(request, viewer, draft=text, valid=parsed.identity())
    config = config_of(request)
    if action == "preview":
        result = await run_in_threadpool(
            lambda: preview_model(config.store, text, actor=viewer.actor, as_of=config.now())
        )
        histogram = charts.histogram(
            [("published", result.published_counts), ("draft", result.draft_counts)],
            result.edges,
        )
        segments = sorted(set(result.mqls_now) | set(result.mqls_after))
        return await _model_page(
            request, viewer, draft=text, preview=result, histogram=histogram, segments=segments
        )
    if action != "publish":
        raise HTTPException(400, "do: use validate, preview or publish")
    note = form.get("note").strip()
    if not note:
        return await _model_page(
            request, viewer, draft=text, status=422,
            note_error="a change note is needed: say why this version",
        )  # fmt: skip
    report = await config.write(
        lambda: publish_model(
            config.store, text, actor=viewer.actor, as_of=config.now(), note=note, pinned=False
        )
    )
    config.wake_worker()
    viewer.session.draft = None
    s = report.summary
    m = report.model
    viewer.session.flash(
        "ok",
        f"published {m['name']} {m['version']} ({m['hash'][:12]}): {s.scored} leads re-scored, "
        f"{s.new_mqls} new MQLs, {s.no_longer_qualifying} no longer qualifying",
    )
    return RedirectResponse("/app/model", 303)
