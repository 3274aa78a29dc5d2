"""The shared AWS layer: SigV4 signing, credentials as the AWS tools find them, and the
``application/vnd.amazon.eventstream`` decoder. No provider knowledge; Bedrock builds on it.

Every piece but :mod:`.source` (the stream pump for event-stream bodies) is sans-IO.
"""

from __future__ import annotations

from .credentials import AWSConfig as AWSConfig
from .credentials import AWSCredentials as AWSCredentials
from .credentials import resolve_aws_config as resolve_aws_config
from .eventstream import EventStreamDecoder as EventStreamDecoder
from .eventstream import EventStreamError as EventStreamError
from .eventstream import EventStreamMessage as EventStreamMessage
from .sigv4 import sign_request as sign_request

__all__ = [
    "AWSConfig",
    "AWSCredentials",
    "EventStreamDecoder",
    "EventStreamError",
    "EventStreamMessage",
    "resolve_aws_config",
    "sign_request",
]
