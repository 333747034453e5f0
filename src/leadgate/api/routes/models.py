"""Model versions: publish (or dry-run) a YAML model, list every version, show one, diff two."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from leadgate.api.app import config_of
from leadgate.api.auth import GuardedRoute, actor_of, auditor, needs
from leadgate.api.keys import FieldError
from leadgate.api.routes.events import json_body
from leadgate.api.schemas import ModelIn, PathId
from leadgate.errors import NotFoundError
from leadgate.service import (
    ModelDiff,
    ModelVersionView,
    PublishReport,
    diff_models,
    list_models,
    publish_model,
)

router = APIRouter(route_class=GuardedRoute, tags=["models"])

_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
_PUBLISH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ModelIn.model_json_schema()},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


class ModelVersionDetail(ModelVersionView):
    """One published version with its YAML text."""

    yaml: str


async def _model_text(request: Request, dry_run: bool) -> tuple[str, bool]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _YAML_TYPES:
        raw = await request.body()
        try:
            return raw.decode("utf-8"), dry_run
        except UnicodeDecodeError:
            raise FieldError("the model must be UTF-8 text", "body") from None
    try:
        body = ModelIn.model_validate(await json_body(request))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise FieldError(first["msg"], field) from None
    return body.yaml, body.dry_run or dry_run


@router.post(
    "/v1/models",
    response_model=PublishReport,
    openapi_extra={**needs("models:write"), **_PUBLISH_BODY},
)
async def publish(
    request: Request,
    dry_run: Annotated[bool, Query(description="report what would change; write nothing")] = False,
) -> PublishReport:
    """Publish a model (JSON ``{"yaml": ..., "dry_run": ...}`` or a raw YAML body).

    Every lead is re-scored under the new version and the resulting transitions are recorded;
    the report says how many leads change status. ``dry_run`` only reports.
    """
    config = config_of(request)
    text, dry = await _model_text(request, dry_run)
    if "\n" not in text:
        text += "\n"  # YAML text, never a path on the server (see read_model_source)
    report = await config.write(
        lambda: publish_model(
            config.store,
            text,
            actor=actor_of(request),
            as_of=config.now(),
            dry_run=dry,
            by=auditor(request),
            pinned=False,  # the server's "now": never a replay
        )
    )
    if not dry:
        config.wake_worker()
    return report


@router.get("/v1/models", response_model=list[ModelVersionView], openapi_extra=needs("models:read"))
async def versions(request: Request) -> list[ModelVersionView]:
    """Every published version, oldest first; the newest is ``active``."""
    return await run_in_threadpool(list_models, config_of(request).store)


@router.get("/v1/models/diff", response_model=ModelDiff, openapi_extra=needs("models:read"))
async def diff(
    request: Request,
    a: Annotated[
        str | None, Query(description="id, hash or version (default: the previous)")
    ] = None,
    b: Annotated[str | None, Query(description="id, hash or version (default: the active)")] = None,
) -> ModelDiff:
    """Two versions compared: spec-level changes and the YAML diff."""
    store = config_of(request).store
    listed = await run_in_threadpool(list_models, store)
    if b is None:
        if not listed:
            raise NotFoundError("no model published yet")
        b = str(listed[-1].id)
    if a is None:
        if len(listed) < 2:
            raise NotFoundError("only one model version published: nothing to diff against")
        a = str(listed[-2].id)
    return await run_in_threadpool(diff_models, store, a, b)


@router.get(
    "/v1/models/{ref}", response_model=ModelVersionDetail, openapi_extra=needs("models:read")
)
async def version(request: Request, ref: PathId) -> Any:
    """One version by id, hash (prefix) or version label, with its YAML."""
    from leadgate.service.models import find_model

    store = config_of(request).store

    def _find() -> ModelVersionDetail:
        with store.read() as conn:
            row = find_model(conn, ref)
        view = next(v for v in list_models(store) if v.id == row.id)
        return ModelVersionDetail(**view.model_dump(), yaml=row.yaml)

    return await run_in_threadpool(_find)
