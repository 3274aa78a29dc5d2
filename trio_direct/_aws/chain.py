"""botocore's full credential chain behind the optional ``aws`` extra (``pip install 'trio_direct[aws]'``).

:func:`resolve_aws_config` covers what needs no login flow and no network: keys in the environment and
static keys in the shared files. Everything else — IAM Identity Center (SSO), ``credential_process``,
role assumption, web identity, ECS/EKS container credentials, EC2 instance metadata — is what botocore
does, and when botocore is installed :class:`BotocoreCredentials` asks it.

botocore is blocking (file reads, HTTP to the metadata endpoints, subprocesses), so the first lookup and
every refresh run in a worker thread through :func:`trio.to_thread.run_sync`; a lookup whose
credentials are still fresh is a memory read. botocore refreshes temporary credentials ahead of expiry
(15 minutes by default), and every request gets the current ones.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Final, final

import trio

from ..exceptions import UserError
from .keys import AWSCredentials

__all__ = ["BotocoreCredentials", "botocore_available"]

_INSTALL_HINT: Final = "pip install 'trio_direct[aws]'"


def botocore_available() -> bool:
    """Whether botocore can be imported (the ``aws`` extra)."""
    try:
        _botocore("session")
    except ImportError:
        return False
    return True


def _botocore(module: str) -> Any:
    # botocore ships no type information: its modules are handled as Any (imported only when used)
    return importlib.import_module(f"botocore.{module}")


@final
class BotocoreCredentials:
    """SigV4 credentials from botocore's credential chain, for one profile (or botocore's default).

    Args:
        profile: the profile to use, or None for ``AWS_PROFILE`` / ``default`` as botocore picks it.

    The secret key and session token never appear in a repr.
    """

    __slots__ = ("_botocore", "_current", "_lock", "_profile")

    def __init__(self, profile: str | None = None) -> None:
        self._profile = profile
        self._lock = threading.Lock()  # one lookup or refresh at a time, across runs and threads
        self._botocore: Any = None  # botocore's credentials object, once found
        self._current: AWSCredentials | None = None

    def __repr__(self) -> str:
        return f"BotocoreCredentials(profile={self._profile!r})"

    @property
    def current(self) -> AWSCredentials | None:
        """The credentials of the last lookup, if any (for redaction; may be stale)."""
        return self._current

    def _needs_thread(self) -> bool:
        found = self._botocore
        if found is None:
            return True
        refresh_needed = getattr(found, "refresh_needed", None)
        if not callable(refresh_needed):
            return False  # static credentials never refresh
        # A minute beyond botocore's own advisory window: reading them in the event loop then never makes
        # botocore refresh (blocking) there, even if the clock moves on between the check and the read.
        window = getattr(found, "_advisory_refresh_timeout", 15 * 60) + 60
        return bool(refresh_needed(window))

    def _lookup(self) -> AWSCredentials:
        # Blocking: runs in a worker thread (first use, or when botocore says a refresh is due).
        with self._lock:
            if self._botocore is None:
                errors = _botocore("exceptions")
                try:
                    session = _botocore("session").Session(profile=self._profile)
                    self._botocore = session.get_credentials()
                except errors.BotoCoreError as exc:
                    raise UserError(
                        f"botocore could not find AWS credentials: {type(exc).__name__}: {exc}"
                    ) from None
                if self._botocore is None:
                    raise UserError(
                        "no AWS credentials found, by trio_direct or by botocore's credential chain "
                        "(environment, shared files, SSO, credential_process, container or instance "
                        "metadata): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a "
                        "Bedrock API key in AWS_BEARER_TOKEN_BEDROCK"
                    )
            return self._freeze()

    def _freeze(self) -> AWSCredentials:
        try:
            frozen: Any = self._botocore.get_frozen_credentials()
        except _botocore("exceptions").BotoCoreError as exc:
            raise UserError(
                f"botocore could not refresh the AWS credentials: {type(exc).__name__}: {exc}"
            ) from None
        credentials = AWSCredentials(frozen.access_key, frozen.secret_key, frozen.token or None)
        self._current = credentials
        return credentials

    async def get(self) -> AWSCredentials:
        """The current credentials; the first call and refreshes run botocore in a worker thread.

        Raises:
            UserError: botocore found no credentials, or could not get or refresh them.

        Cancellation:
            Safe; a lookup already running in its thread is abandoned (and finishes there), and the next
            call waits for it through the lock.
        """
        if not self._needs_thread():
            # no lock here: never block the event loop on a refresh running in a thread
            await trio.lowlevel.checkpoint()
            return self._freeze()
        return await trio.to_thread.run_sync(self._lookup, abandon_on_cancel=True)


def install_hint() -> str:
    """How to get the full chain."""
    return _INSTALL_HINT
