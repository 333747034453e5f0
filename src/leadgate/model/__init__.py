"""The scoring model: spec (pydantic), YAML loading with line-numbered errors, JSON Schema, identity."""

from __future__ import annotations

from leadgate.model.loader import Model, load_model, model_json_schema, parse_model

__all__ = ["Model", "load_model", "model_json_schema", "parse_model"]
