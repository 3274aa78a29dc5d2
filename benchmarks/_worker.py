"""One measurement in a fresh process: ``python -m benchmarks._worker '<json spec>'``.

The spec names the client (``trio_direct``, ``pydantic_ai``, ``floor``), an optional variant (``httpx2``),
the scenario, the fake provider's base URL and the scenario's parameters. The last stdout line is
``RESULT <json>``: the client's figures, ``{"na": reason}`` when the client cannot run the scenario, or
``{"error": ...}``. Only stdlib modules are imported before the client's own, so imports, pools and
allocations never leak from one library's measurement into another's.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from typing import Any

from ._measure import NotAvailable

MARKER = "RESULT "


def main(argv: list[str]) -> int:
    spec: dict[str, Any] = json.loads(argv[0])
    try:
        module = importlib.import_module(f"benchmarks._client_{spec['client']}")
        result = module.run(spec["scenario"], spec["base_url"], spec["params"], spec.get("variant"))
    except NotAvailable as exc:
        result = {"na": str(exc)}
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
