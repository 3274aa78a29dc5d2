"""Shared AWS test values."""

from __future__ import annotations

from trio_direct._aws.credentials import AWSConfig, AWSCredentials

#: A SigV4 configuration pointing nowhere (request-building tests do no I/O).
SIGV4_CONFIG = AWSConfig(
    region="us-east-1",
    endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com",
    credentials=AWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
)
