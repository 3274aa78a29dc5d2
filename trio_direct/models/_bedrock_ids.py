"""Amazon Bedrock model ids: what the Converse dialect (``bedrock:``) and Bedrock Mantle (``bedrock-mantle:``)
both read from one. Pure.

A Bedrock id is ``[<geo>.]<vendor>.<model>[-v<n>[:<m>]]`` (``us.anthropic.claude-haiku-4-5-20251001-v1:0``),
or an inference-profile / foundation-model ARN around one; pydantic-ai 2.68 keys its per-family
behaviour on the vendor and the bare model name (``split_bedrock_model_id``).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["GEO_PREFIXES", "remove_geo_prefix", "split_model_id"]

#: Cross-region inference prefixes.
GEO_PREFIXES: Final = ("us", "eu", "apac", "jp", "au", "ca", "in", "global", "us-gov")
_VERSION_SUFFIX: Final = re.compile(r"(.+)-v\d+(?::\d+)?$")
_MODEL_ARN: Final = re.compile(r"^arn:[^:]+:bedrock:[^:]*:[^:]*:(?:inference-profile|foundation-model)/(.+)$")


def remove_geo_prefix(model_id: str) -> str:
    """``model_id`` without its cross-region inference prefix (``us.``, ``eu.``, ``global.``...)."""
    for prefix in GEO_PREFIXES:
        if model_id.startswith(f"{prefix}."):
            return model_id.removeprefix(f"{prefix}.")
    return model_id


def split_model_id(model_id: str) -> tuple[str | None, str]:
    """``(vendor, bare name)`` of a Bedrock id: ARN, geo prefix and ``-vN:M`` suffix removed; the vendor
    is None when the id has no ``<vendor>.`` segment."""
    if arn := _MODEL_ARN.match(model_id):
        model_id = arn.group(1)
    vendor, _, name = remove_geo_prefix(model_id).partition(".")
    if not name:
        return None, model_id
    if version := _VERSION_SUFFIX.match(name):
        name = version.group(1)
    return vendor, name
