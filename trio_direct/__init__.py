"""trio_direct: imperative requests to language models, natively on Trio.

pydantic-ai's direct API (``model_request``, ``model_request_sync``, ``model_request_stream``,
``model_request_stream_sync``) with one attrs message model for every provider, raw httpx, a
dedicated Trio portal thread for sync callers, and streams that cancel for real.
"""

from __future__ import annotations

import atexit
import importlib
import typing as _typing

from ._exports import show_public_module as _show_public_module
from ._http import use_http_client as use_http_client
from ._version import __version__ as __version__
from .direct import StreamedResponseSync as StreamedResponseSync
from .direct import model_request as model_request
from .direct import model_request_stream as model_request_stream
from .direct import model_request_stream_sync as model_request_stream_sync
from .direct import model_request_sync as model_request_sync
from .events import FinalResultEvent as FinalResultEvent
from .events import ModelResponsePartDelta as ModelResponsePartDelta
from .events import ModelResponseStreamEvent as ModelResponseStreamEvent
from .events import PartDeltaEvent as PartDeltaEvent
from .events import PartEndEvent as PartEndEvent
from .events import PartStartEvent as PartStartEvent
from .events import TextPartDelta as TextPartDelta
from .events import ThinkingPartDelta as ThinkingPartDelta
from .events import ToolCallPartDelta as ToolCallPartDelta
from .exceptions import AgentRunError as AgentRunError
from .exceptions import FallbackExceptionGroup as FallbackExceptionGroup
from .exceptions import MessageFormatError as MessageFormatError
from .exceptions import ModelAPIError as ModelAPIError
from .exceptions import ModelAuthenticationError as ModelAuthenticationError
from .exceptions import ModelConnectionError as ModelConnectionError
from .exceptions import ModelContextWindowExceededError as ModelContextWindowExceededError
from .exceptions import ModelHTTPError as ModelHTTPError
from .exceptions import ModelNotFoundError as ModelNotFoundError
from .exceptions import ModelOverloadedError as ModelOverloadedError
from .exceptions import ModelQuotaExceededError as ModelQuotaExceededError
from .exceptions import ModelRateLimitError as ModelRateLimitError
from .exceptions import ModelRequestRejectedError as ModelRequestRejectedError
from .exceptions import ModelServerError as ModelServerError
from .exceptions import ModelTimeoutError as ModelTimeoutError
from .exceptions import ModelUnavailableError as ModelUnavailableError
from .exceptions import PortalClosedError as PortalClosedError
from .exceptions import RequestTimeoutError as RequestTimeoutError
from .exceptions import ResponseTooLargeError as ResponseTooLargeError
from .exceptions import StreamClosedError as StreamClosedError
from .exceptions import TrioDirectError as TrioDirectError
from .exceptions import UnexpectedModelBehavior as UnexpectedModelBehavior
from .exceptions import UserError as UserError
from .messages import AudioUrl as AudioUrl
from .messages import BinaryContent as BinaryContent
from .messages import BinaryImage as BinaryImage
from .messages import CachePoint as CachePoint
from .messages import CompactionPart as CompactionPart
from .messages import DocumentUrl as DocumentUrl
from .messages import FilePart as FilePart
from .messages import FinishReason as FinishReason
from .messages import ImageUrl as ImageUrl
from .messages import ModelMessage as ModelMessage
from .messages import ModelRequest as ModelRequest
from .messages import ModelRequestPart as ModelRequestPart
from .messages import ModelResponse as ModelResponse
from .messages import ModelResponsePart as ModelResponsePart
from .messages import NativeToolCallPart as NativeToolCallPart
from .messages import NativeToolReturnPart as NativeToolReturnPart
from .messages import RetryPromptPart as RetryPromptPart
from .messages import SystemPromptPart as SystemPromptPart
from .messages import TextContent as TextContent
from .messages import TextPart as TextPart
from .messages import ThinkingPart as ThinkingPart
from .messages import ToolCallPart as ToolCallPart
from .messages import ToolReturnPart as ToolReturnPart
from .messages import UploadedFile as UploadedFile
from .messages import UserContent as UserContent
from .messages import UserPromptPart as UserPromptPart
from .messages import VideoUrl as VideoUrl
from .models import StreamedResponse as StreamedResponse
from .settings import ModelSettings as ModelSettings
from .settings import ToolOrOutput as ToolOrOutput
from .tools import InstructionPart as InstructionPart
from .tools import ModelRequestParameters as ModelRequestParameters
from .tools import OutputObjectDefinition as OutputObjectDefinition
from .tools import ToolDefinition as ToolDefinition
from .usage import RequestUsage as RequestUsage

if _typing.TYPE_CHECKING:
    from . import serialization as serialization
    from ._portal import Portal as Portal
    from ._portal import shutdown as shutdown
    from .retries import RetryingModel as RetryingModel
    from .retries import RetryPolicy as RetryPolicy

#: Names loaded on first use, by the module that defines them: a first request needs none of them, and
#: importing them costs a good part of the package's import time (the portal and its thread machinery,
#: the retry layer, and serialization with the cattrs converters it builds).
_LAZY: _typing.Final = {
    "Portal": "._portal",
    "shutdown": "._portal",
    "RetryingModel": ".retries",
    "RetryPolicy": ".retries",
    "serialization": None,  # the submodule itself
}

__all__ = [
    "AgentRunError",
    "AudioUrl",
    "BinaryContent",
    "BinaryImage",
    "CachePoint",
    "CompactionPart",
    "DocumentUrl",
    "FallbackExceptionGroup",
    "FilePart",
    "FinalResultEvent",
    "FinishReason",
    "ImageUrl",
    "InstructionPart",
    "MessageFormatError",
    "ModelAPIError",
    "ModelAuthenticationError",
    "ModelConnectionError",
    "ModelContextWindowExceededError",
    "ModelHTTPError",
    "ModelMessage",
    "ModelNotFoundError",
    "ModelOverloadedError",
    "ModelQuotaExceededError",
    "ModelRateLimitError",
    "ModelRequest",
    "ModelRequestParameters",
    "ModelRequestPart",
    "ModelRequestRejectedError",
    "ModelResponse",
    "ModelResponsePart",
    "ModelResponsePartDelta",
    "ModelResponseStreamEvent",
    "ModelServerError",
    "ModelSettings",
    "ModelTimeoutError",
    "ModelUnavailableError",
    "NativeToolCallPart",
    "NativeToolReturnPart",
    "OutputObjectDefinition",
    "PartDeltaEvent",
    "PartEndEvent",
    "PartStartEvent",
    "Portal",
    "PortalClosedError",
    "RequestTimeoutError",
    "RequestUsage",
    "ResponseTooLargeError",
    "RetryPolicy",
    "RetryPromptPart",
    "RetryingModel",
    "StreamClosedError",
    "StreamedResponse",
    "StreamedResponseSync",
    "SystemPromptPart",
    "TextContent",
    "TextPart",
    "TextPartDelta",
    "ThinkingPart",
    "ThinkingPartDelta",
    "ToolCallPart",
    "ToolCallPartDelta",
    "ToolDefinition",
    "ToolOrOutput",
    "ToolReturnPart",
    "TrioDirectError",
    "UnexpectedModelBehavior",
    "UploadedFile",
    "UserContent",
    "UserError",
    "UserPromptPart",
    "VideoUrl",
    "model_request",
    "model_request_stream",
    "model_request_stream_sync",
    "model_request_sync",
    "shutdown",
    "use_http_client",
]


def __getattr__(name: str) -> _typing.Any:
    """Load a lazily exported name (see ``_LAZY``) on first access; it is then a plain attribute."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    source = _LAZY[name]
    if source is None:
        value: _typing.Any = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(source, __name__), name)
        _show_public_module({name: value}, [name], __name__)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def _stop_portals_at_exit() -> None:
    # Registered here, at package import, not when the portal module loads (see _portal): hooks
    # registered later run first, while the portal is still up. Loading the portal module now, if
    # no sync call did, makes any sync call from an earlier-registered hook fail cleanly.
    from . import _portal

    _portal.shutdown_at_exit()


atexit.register(_stop_portals_at_exit)

_show_public_module(globals(), [name for name in __all__ if name not in _LAZY], __name__)
