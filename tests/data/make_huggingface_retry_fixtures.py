"""Regenerate ``huggingface_retry_requests.json``: what pydantic-ai-slim 2.68's ``HuggingFaceModel`` sends
for a history its direct API prepares (one holding a retry).

Not a test and not shipped: it needs pydantic-ai's ``HuggingFaceModel`` and the ``huggingface_hub`` SDK,
which trio_direct never depends on, and imports the scenarios of ``make_openai_chat_fixtures.py`` (which
needs the ``openai`` SDK). Install them in a venv aside and run it there::

    python -m venv /tmp/oracle-hf
    /tmp/oracle-hf/bin/pip install "pydantic-ai-slim[huggingface,openai]==2.68.0"
    /tmp/oracle-hf/bin/python tests/data/make_huggingface_retry_fixtures.py

2.68's direct API runs the model's whole ``prepare_messages`` on a history holding a retry: tool results
go ahead of the other parts of their request in the order of the calls they answer, and on a model
without a mid-conversation system role mid-conversation system prompts become ``<system>`` user text
behind an announcement. 2.68's Hugging Face provider gives the role to the organisations it has a
profile for (``meta-llama``, ``Qwen``, ``deepseek-ai``, ``mistralai``, …) and not to others (``openai``,
``zai-org``, unknown ones); ``mistralai``'s profile also fits tool call IDs to 9 characters. The Chat
scenarios (with and without the retry) go to one model of each kind through ``pydantic_ai.direct``
against the small loopback server of ``make_huggingface_fixtures.py`` (the SDK builds its own HTTP
client), and the body it POSTed, or the error raised, is written next to this file.
"""

import asyncio
import json
import sys
import threading
import warnings
from http.server import ThreadingHTTPServer
from pathlib import Path

from make_huggingface_fixtures import SEEN, Handler
from make_openai_chat_fixtures import (
    FEEDBACK,
    INSTRUCTIONS,
    MID_SYSTEM_PLAIN,
    MID_SYSTEM_RETRY,
    NO_OUTPUT_ONLY,
    NO_STANDING,
    OUT_OF_ORDER,
    OUT_OF_ORDER_PLAIN,
    RETRY_ONLY,
    TOOL_RETRY_ONLY,
    TOOLS,
    make_params,
)
from pydantic_ai import messages as m
from pydantic_ai.direct import model_request
from pydantic_ai.models.huggingface import HuggingFaceModel
from pydantic_ai.providers.huggingface import HuggingFaceProvider

warnings.simplefilter("ignore")
HERE = Path(__file__).parent

#: label -> model: one with the mid-conversation system role, one without, one fitting tool call IDs
MODELS = {
    "llama": "meta-llama/Llama-3.3-70B-Instruct",
    "gptoss": "openai/gpt-oss-120b",
    "mistral": "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
}
SCENARIOS = [
    ("mid_system_retry", MID_SYSTEM_RETRY, TOOLS),
    ("mid_system_no_retry", MID_SYSTEM_PLAIN, TOOLS),
    ("out_of_order_retry", OUT_OF_ORDER, TOOLS),
    ("out_of_order_no_retry", OUT_OF_ORDER_PLAIN, TOOLS),
    ("feedback", FEEDBACK, TOOLS),
    ("no_output_only", NO_OUTPUT_ONLY, TOOLS),
    ("no_standing_instructions", NO_STANDING, INSTRUCTIONS),
    ("no_standing_bare", NO_STANDING, TOOLS),
    ("retry_only", RETRY_ONLY, TOOLS),
    ("tool_retry_only", TOOL_RETRY_ONLY, TOOLS),
]
CASES = [
    (f"{label}_{name}", model, messages, spec)
    for label, model in MODELS.items()
    for name, messages, spec in SCENARIOS
    if label != "mistral" or "out_of_order" in name or name == "tool_retry_only"
]


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}/v1"
    out = []
    for name, model_name, messages, spec in CASES:
        model = HuggingFaceModel(model_name, provider=HuggingFaceProvider(base_url=base_url, api_key="k"))
        SEEN.clear()
        try:
            asyncio.run(model_request(model, messages, model_request_parameters=make_params(spec)))
            expected = {"body": SEEN[0]["body"]}
        except Exception as exc:
            expected = {"error": type(exc).__name__, "message": str(exc)[:400]}
        out.append(
            {
                "name": name,
                "model": model_name,
                "messages": json.loads(m.ModelMessagesTypeAdapter.dump_json(messages)),
                "params": spec,
                "expected": expected,
            }
        )
        print(name, "error " + expected["error"] if "error" in expected else "ok", file=sys.stderr)
    server.shutdown()
    (HERE / "huggingface_retry_requests.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out)} scenarios", file=sys.stderr)


if __name__ == "__main__":
    main()
