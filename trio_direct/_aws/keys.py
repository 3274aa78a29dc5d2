"""SigV4 credentials and the protocol of sources that look them up at request time.

Below both :mod:`.credentials` (which finds them) and :mod:`.chain` (botocore's lookup), so neither
imports the other for these types.
"""

from __future__ import annotations

from typing import Protocol

import attrs

__all__ = ["AWSCredentials", "CredentialSource"]


@attrs.frozen(slots=True, repr=False)
class AWSCredentials:
    """SigV4 credentials: an access key id, its secret key and an optional session token.

    The secret key and the session token never appear in a repr.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        token = "None" if self.session_token is None else "'***'"
        return (
            f"AWSCredentials(access_key_id={self.access_key_id!r}, secret_access_key='***', "
            f"session_token={token})"
        )


class CredentialSource(Protocol):
    """Credentials that are looked up (and refreshed) at request time, such as botocore's chain."""

    @property
    def current(self) -> AWSCredentials | None:
        """The credentials of the last lookup, if any."""
        ...

    async def get(self) -> AWSCredentials:
        """The credentials to sign with now.

        Raises:
            UserError: none can be found.
        """
        ...
