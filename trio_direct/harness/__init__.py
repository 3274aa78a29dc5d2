"""The harness: run thousands of requests well.

:func:`run_batch` (async) and :func:`run_batch_sync` run many :class:`Item`\\ s through shared
admission control (adaptive concurrency, RPM/TPM budgets seeded from the provider's rate-limit
headers), the retry policy, an optional response cache and resume journal, and deliver one
:class:`Outcome` per item as it finishes. ``python -m trio_direct batch`` is the command line.
"""

from __future__ import annotations

from .._exports import show_public_module as _show_public_module
from ._batch_wire import BatchCanceledError as BatchCanceledError
from ._batch_wire import BatchExpiredError as BatchExpiredError
from ._batch_wire import BatchJobFailedError as BatchJobFailedError
from ._batch_wire import BatchResultMissingError as BatchResultMissingError
from ._batch_wire import ProviderBatchError as ProviderBatchError
from ._cache import ResponseCache as ResponseCache
from ._cache import request_key as request_key
from ._items import BudgetExceededError as BudgetExceededError
from ._items import CostFunction as CostFunction
from ._items import Item as Item
from ._items import Outcome as Outcome
from ._items import OutcomeSource as OutcomeSource
from ._items import RecordedError as RecordedError
from ._items import default_cost as default_cost
from ._journal import Journal as Journal
from ._limits import AdmissionController as AdmissionController
from ._limits import LimiterEvent as LimiterEvent
from ._limits import Limits as Limits
from ._limits import Ticket as Ticket
from ._limits import TokenEstimate as TokenEstimate
from ._limits import admission_for as admission_for
from ._limits import endpoint_key as endpoint_key
from ._progress import LatencyHistogram as LatencyHistogram
from ._progress import LiveLine as LiveLine
from ._progress import Progress as Progress
from ._progress import ProgressTracker as ProgressTracker
from ._progress import Summary as Summary
from ._provider_batch import BATCH_DISCOUNT as BATCH_DISCOUNT
from ._provider_batch import BatchJob as BatchJob
from ._provider_batch import ProviderBatchRun as ProviderBatchRun
from ._provider_batch import ProviderBatchRunSync as ProviderBatchRunSync
from ._provider_batch import batch_cost as batch_cost
from ._provider_batch import is_batch_priced as is_batch_priced
from ._provider_batch import run_provider_batch as run_provider_batch
from ._provider_batch import run_provider_batch_sync as run_provider_batch_sync
from ._runner import DEFAULT_RETRY as DEFAULT_RETRY
from ._runner import BatchRun as BatchRun
from ._runner import BatchRunSync as BatchRunSync
from ._runner import run_batch as run_batch
from ._runner import run_batch_sync as run_batch_sync

__all__ = [
    "AdmissionController",
    "BATCH_DISCOUNT",
    "BatchCanceledError",
    "BatchExpiredError",
    "BatchJob",
    "BatchJobFailedError",
    "BatchResultMissingError",
    "BatchRun",
    "BatchRunSync",
    "BudgetExceededError",
    "CostFunction",
    "DEFAULT_RETRY",
    "Item",
    "Journal",
    "LatencyHistogram",
    "LimiterEvent",
    "Limits",
    "LiveLine",
    "Outcome",
    "OutcomeSource",
    "Progress",
    "ProgressTracker",
    "ProviderBatchError",
    "ProviderBatchRun",
    "ProviderBatchRunSync",
    "RecordedError",
    "ResponseCache",
    "Summary",
    "Ticket",
    "TokenEstimate",
    "admission_for",
    "batch_cost",
    "default_cost",
    "endpoint_key",
    "is_batch_priced",
    "request_key",
    "run_batch",
    "run_batch_sync",
    "run_provider_batch",
    "run_provider_batch_sync",
]

_show_public_module(globals(), __all__, __name__)
