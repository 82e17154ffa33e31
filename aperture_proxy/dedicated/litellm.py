"""The LiteLLM writer: `model_list` entries of a LiteLLM proxy `config.yaml`.

Each entry routes one model through the gateway in the API LiteLLM speaks best
for it (`openai/…` for OpenAI chat, `anthropic/…`, `gemini/…`) with the
gateway base as `api_base`, a placeholder `api_key` (LiteLLM insists on one;
the gateway authenticates by tailnet identity) and costs in USD per single
token. Entries this writer owns carry `model_info.aperture_provider`; entries
without it are the user's and are never touched.

`model_name` must pick one deployment, so a model id that several gateway
providers serve is `<model id>` for the first provider in gateway order and
`<gateway provider>/<model id>` for the others. LiteLLM's OpenAI client calls
chat completions, and its Vertex and Bedrock clients need cloud credentials, so
providers that speak only Responses, Vertex or Bedrock are left out.

PyYAML cannot keep comments: when the old file has some, it is first copied to
`config.yaml.bak` and the output says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aperture_proxy.dedicated.catalogue import MILLION, ModelCatalogue
from aperture_proxy.dedicated.files import OutputError, dump_yaml, parse_yaml_document
from aperture_proxy.dedicated.merge import Replaceable, merge
from aperture_proxy.dedicated.writer import Placed, Plan, left_out_note, place
from aperture_proxy.upstreams import Api

__all__ = ["LitellmWriter"]

MARKER = "aperture_provider"
PREFIX: dict[Api, str] = {
    Api.OPENAI_COMPLETIONS: "openai",
    Api.ANTHROPIC_MESSAGES: "anthropic",
    Api.GOOGLE_GENERATIVE_AI: "gemini",
}
COST_FIELDS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cacheRead": "cache_read_input_token_cost",
    "cacheWrite": "cache_creation_input_token_cost",
}
_COMMENT = re.compile(r"(^|\s)#")


def _model_name(entry: Placed) -> str:
    model = entry.model
    return model.id if entry.primary else f"{model.provider}/{model.id}"


def _entry(entry: Placed) -> dict[str, Any]:
    model, caps = entry.model, entry.model.capabilities
    info: dict[str, Any] = {
        MARKER: model.provider,
        "max_input_tokens": caps.context,
        "max_output_tokens": caps.max_output,
        "max_tokens": caps.max_output,
        "supports_vision": "image" in caps.input,
        "supports_reasoning": caps.reasoning,
    }
    for name, price in model.cost.items():
        # Costs per single token here: exact, so no rounding creeps in.
        info[COST_FIELDS[name]] = (price / MILLION).normalize()
    return {
        "model_name": _model_name(entry),
        "litellm_params": {
            "model": f"{PREFIX[entry.api]}/{model.id}",
            "api_base": model.base_url(entry.api),
            "api_key": "-",
        },
        "model_info": info,
    }


def _ours(entry: Any) -> str | None:
    """The model_name of an entry this writer owns, else None."""
    if not isinstance(entry, dict) or not isinstance(entry.get("model_name"), str):
        return None
    info = entry.get("model_info")
    if isinstance(info, dict) and isinstance(info.get(MARKER), str):
        return str(entry["model_name"])
    return None


class LitellmWriter:
    """Gateway models as `model_list` entries of a LiteLLM proxy config."""

    name: str = "litellm"
    speaks: tuple[Api, ...] = tuple(PREFIX)

    def default_path(self, env: Mapping[str, str]) -> Path:
        """`config.yaml` in the current directory (LiteLLM has no fixed place)."""
        return Path("config.yaml")

    def entries(self, catalogue: ModelCatalogue) -> tuple[dict[str, Any], list[str]]:
        """The generated entries by model_name, and notes for people."""
        placed, left_out = place(catalogue, self.speaks)
        entries = {_model_name(e): _entry(e) for e in placed}
        shared = [e for e in placed if not e.primary]
        notes = [
            f"litellm: {e.model.id} is also served by {e.model.provider}; that copy "
            f"is model_name {_model_name(e)}"
            for e in shared
        ]
        return entries, notes + left_out_note("litellm", left_out)

    def render(
        self,
        catalogue: ModelCatalogue,
        old: str | None,
        path: Path,
        base: Any,
        replaceable: Replaceable | None = None,
    ) -> Plan:
        """Merge the generated entries into `model_list`, in place."""
        doc = parse_yaml_document(old, path) if old is not None else {}
        current_list = doc.get("model_list") or []
        if not isinstance(current_list, list):
            raise OutputError(
                f"{path}: model_list is not a list; fix it or move the file away, it "
                "was left untouched"
            )
        current: dict[str, Any] = {}
        for index, item in enumerate(current_list):
            name = _ours(item)
            if name is not None and name in current:
                raise OutputError(
                    f"{path}: model_list[{index}]: a second generated entry named "
                    f"{name!r}; remove one, the file was left untouched"
                )
            if name is not None:
                current[name] = item
        generated, notes = self.entries(catalogue)
        merged = merge(current, base, generated, replaceable=replaceable)

        result: list[Any] = []
        for item in current_list:
            name = _ours(item)
            if name is None:
                result.append(item)
            elif name in merged:
                result.append(merged.pop(name))
        result += merged.values()
        doc["model_list"] = result

        lossy = old is not None and any(
            _COMMENT.search(line) for line in old.splitlines()
        )
        if lossy:
            notes.append(
                f"litellm: PyYAML cannot keep the comments of {path}; the old file is "
                f"saved as {path.name}.bak"
            )
        return Plan(path, old, dump_yaml(doc), generated, notes, lossy)
