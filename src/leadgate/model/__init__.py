"""The scoring model: spec (pydantic), YAML loading with line-numbered errors, JSON Schema, identity."""

from __future__ import annotations

from leadgate.model.accounts_spec import AccountsSpec
from leadgate.model.loader import Model, load_model, model_json_schema, parse_model
from leadgate.model.spec import ModelSpec

# ModelSpec.accounts names AccountsSpec, which builds on spec.py's classes: resolved here, once
# both modules exist (the package is initialised before any of its modules is used).
ModelSpec.model_rebuild(_types_namespace={"AccountsSpec": AccountsSpec})

__all__ = ["Model", "load_model", "model_json_schema", "parse_model"]
