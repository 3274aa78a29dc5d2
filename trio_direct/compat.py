"""What of pydantic-ai 2.68's public surface trio_direct leaves out on purpose, and why.

Every public name of the pydantic-ai modules a direct-API user imports from (``pydantic_ai.direct``,
``.messages``, ``.models``, ``.models.{test,function,fallback,wrapper,instrumented}``, ``.settings``,
``.usage``, ``.exceptions``) is importable from the ``trio_direct`` module of the same name, except the
ones listed in :data:`PYDANTIC_AI_OMISSIONS`. The differential test suite (``tests/test_dropin_names.py``)
reads this table: a 2.68 name that is neither importable nor listed here fails it, and so does a name
listed here that trio_direct does provide.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["PYDANTIC_AI_FIELD_OMISSIONS", "PYDANTIC_AI_OMISSIONS"]

_AGENT = "the Agent's machinery; the direct API never runs an agent loop"
_AGENT_EVENT = (
    "an Agent or realtime-session event; a direct-API stream only yields part and final-result events"
)
_AGENT_PART = (
    "a request part only the Agent writes (instruction and capability state); such a history raises "
    "MessageFormatError on load"
)
_TOOLS = "the direct API never runs tools, so nothing raises or handles tool-execution exceptions"
_TYPED_TOOLS = (
    "typed tool parts (the ToolKind registry) are left out: parts with a tool_kind load as plain parts "
    "with that tool_kind, which dump to the same JSON"
)
_PYDANTIC = "a pydantic TypeAdapter; trio_direct has no pydantic dependency (see trio_direct.serialization)"
_INTERNAL = "an implementation detail of pydantic-ai's model layer that the direct API does not expose"
_HTTP = "trio_direct manages its own HTTP client (trio_direct.use_http_client)"
_NO_SWITCH = "no global switch that blocks real requests; tests use the test model or a loopback server"
_HOSTS = "OpenAI-compatible hosts are rows of data in trio_direct.models.openai"
_ONE_STREAM = "every model streams through the one trio_direct.models.StreamedResponse class"

PYDANTIC_AI_OMISSIONS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "direct": {
            "model_request_batch": "batch APIs (submit, poll for up to a day) are not implemented yet",
        },
        "messages": {
            # the Agent's history state
            "AgentInstructionSource": _AGENT,
            "CapabilityInstructionSource": _AGENT,
            "RunInstructionSource": _AGENT,
            "ToolsetInstructionSource": _AGENT,
            "InstructionSource": _AGENT,
            "InstructionId": _AGENT,
            "SerializedInstructionId": _AGENT,
            "InstructionChangePolicy": _AGENT,
            "InstructionDigest": _AGENT,
            "Authority": _AGENT,
            "STANDING_PROMPT_PLANTED_KEY": _AGENT,
            "SYNTHESIZED_TOOL_RETURN_METADATA_KEY": _AGENT,
            "WorkspaceRef": "workspaces belong to the Agent; ModelResponse.workspace_ref stays plain JSON",
            "InstructionBaselinePart": _AGENT_PART,
            "InstructionDeltaPart": _AGENT_PART,
            "ToolAvailabilityDeltaPart": _AGENT_PART,
            "CapabilityLoadDeltaPart": _AGENT_PART,
            "ModelSettingsDeltaPart": _AGENT_PART,
            "repair_messages": "history repair runs inside the Agent's loop",
            "sanitize_messages": "sanitizing client-supplied histories belongs to the Agent's UI adapters",
            # events
            "AgentStreamEvent": _AGENT_EVENT,
            "HandleResponseEvent": _AGENT_EVENT,
            "EnqueuedMessagesEvent": _AGENT_EVENT,
            "ToolCallEvent": _AGENT_EVENT,
            "FunctionToolCallEvent": _AGENT_EVENT,
            "OutputToolCallEvent": _AGENT_EVENT,
            "ToolResultEvent": _AGENT_EVENT,
            "FunctionToolResultEvent": _AGENT_EVENT,
            "OutputToolResultEvent": _AGENT_EVENT,
            "DeferredToolRequestsEvent": _AGENT_EVENT,
            "DeferredToolResultsEvent": _AGENT_EVENT,
            "ToolAvailabilityDeltaEvent": _AGENT_EVENT,
            "CapabilityLoadDeltaEvent": _AGENT_EVENT,
            "ModelSettingsDeltaEvent": _AGENT_EVENT,
            "CapabilityEvent": _AGENT_EVENT,
            "UnknownCapabilityEvent": _AGENT_EVENT,
            "CAPABILITY_EVENT_TYPES": _AGENT_EVENT,
            "CustomEvent": _AGENT_EVENT,
            "UnknownCustomEvent": _AGENT_EVENT,
            "CUSTOM_EVENT_TYPES": _AGENT_EVENT,
            "RealtimeSessionEvent": _AGENT_EVENT,
            "RealtimeTurnCompleteEvent": _AGENT_EVENT,
            "RealtimeInputSpeechStartEvent": _AGENT_EVENT,
            "RealtimeInputSpeechEndEvent": _AGENT_EVENT,
            "RealtimeOutputSpeechStartEvent": _AGENT_EVENT,
            "RealtimeOutputSpeechEndEvent": _AGENT_EVENT,
            "RealtimeResponseInterruptedEvent": _AGENT_EVENT,
            "RealtimeInputTranscriptionErrorEvent": _AGENT_EVENT,
            "RealtimeSessionErrorEvent": _AGENT_EVENT,
            "RealtimeSessionReconnectEvent": _AGENT_EVENT,
            # typed tool parts
            "ToolKind": _TYPED_TOOLS,
            "ToolKindLike": _TYPED_TOOLS,
            "ArgsT_co": _TYPED_TOOLS,
            "ContentT_co": _TYPED_TOOLS,
            "RetryCauseT_co": "RetryInfo is not generic here (its cause is a plain string)",
            "parse_tool_kind": _TYPED_TOOLS,
            "narrow_message_parts": _TYPED_TOOLS,
            "ToolSearchCallPart": _TYPED_TOOLS,
            "ToolSearchReturnPart": _TYPED_TOOLS,
            "NativeToolSearchCallPart": _TYPED_TOOLS,
            "NativeToolSearchReturnPart": _TYPED_TOOLS,
            "LoadCapabilityCallPart": _TYPED_TOOLS,
            "LoadCapabilityReturnPart": _TYPED_TOOLS,
            "ToolSearchArgs": _TYPED_TOOLS,
            "ToolSearchMatch": _TYPED_TOOLS,
            "ToolSearchReturnContent": _TYPED_TOOLS,
            # pydantic
            "error_details_ta": _PYDANTIC,
            "tool_return_ta": _PYDANTIC,
            "tool_return_content_ta": _PYDANTIC,
            "ToolReturnContent": "tool-return content is typed Any here; files inside it are rebuilt on load",
        },
        "models": {
            "ALLOW_MODEL_REQUESTS": _NO_SWITCH,
            "check_allow_model_requests": _NO_SWITCH,
            "override_allow_model_requests": _NO_SWITCH,
            "CompletedStreamedResponse": _INTERNAL,
            "DataT": _INTERNAL,
            "ModelContextDepsT": _AGENT,
            "ModelRequestContext": _AGENT,
            "ModelResolutionContext": _AGENT,
            "ModelSelectionContext": _AGENT,
            "InstructionVisibility": _AGENT,
            "ToolVisibility": _AGENT,
            "TOOL_AVAILABILITY_ANNOUNCEMENT": _AGENT,
            "resolve_request_tools": _AGENT,
            "prepare_return_schemas": _AGENT,
            "DownloadedItem": _INTERNAL,
            "download_item": _INTERNAL,
            "create_async_http_client": _HTTP,
            "get_user_agent": _HTTP,
            "infer_model_profile": "model profiles are internal to each provider module here",
            "parse_model_id": "model names resolve through trio_direct.models.infer_model",
            "OpenAIChatCompatibleProvider": _HOSTS,
            "OpenAIResponsesCompatibleProvider": _HOSTS,
        },
        "models.test": {
            "TestStreamedResponse": _ONE_STREAM,
        },
        "models.function": {
            "FunctionStreamedResponse": _ONE_STREAM,
        },
        "models.wrapper": {
            "serving_wrapper_scope": _AGENT,
        },
        "settings": {
            "RecordedModelSettings": _AGENT_PART,
        },
        "usage": {
            "RunUsage": "usage summed over an agent run; a direct request has one RequestUsage",
            "UsageLimits": "limits are checked by the Agent across a run",
            "UsageBase": "RequestUsage stands alone here (no shared base with RunUsage)",
        },
        "exceptions": {
            "ModelRetry": _TOOLS,
            "ToolRetryError": _TOOLS,
            "ToolFailed": _TOOLS,
            "ToolFailedError": _TOOLS,
            "CallDeferred": _TOOLS,
            "ApprovalRequired": _TOOLS,
            "SkipToolValidation": _TOOLS,
            "SkipToolExecution": _TOOLS,
            "SkipModelRequest": _AGENT,
            "RetryModelRequest": _AGENT,
            "RunCancelled": _AGENT,
            "RunTimedOut": _AGENT,
            "SuspendedResponseExpired": _AGENT,
            "UsageLimitExceeded": _AGENT,
            "UndrainedPendingMessagesError": _AGENT,
            "MessageHistoryMutatedWarning": _AGENT,
        },
    }
)
"""module (relative to ``pydantic_ai``) -> 2.68 name -> why trio_direct does not provide it."""


PYDANTIC_AI_FIELD_OMISSIONS: Final[Mapping[str, tuple[frozenset[str], str]]] = MappingProxyType(
    {
        "InstructionPart": (
            frozenset({"id", "name", "on_change"}),
            "the Agent's instruction state (ids, appended changes); instructions go out as given",
        ),
        "ModelRequestParameters": (
            frozenset(
                {
                    "cache",
                    "deferred_capability_ids",
                    "instruction_visibility",
                    "introduced_tool_names",
                    "revealed_tool_names",
                    "tool_visibility",
                }
            ),
            "the Agent's deferred tools and capabilities; prompt caching is a provider setting here",
        ),
        "ToolDefinition": (
            frozenset({"unless_native", "with_native", "unless_tool_kind", "toolset_id", "capability_id"}),
            "the Agent's toolsets, capabilities and native-tool fallbacks",
        ),
    }
)
"""class name -> (2.68 constructor keywords trio_direct's class of that name does not take, why)."""
