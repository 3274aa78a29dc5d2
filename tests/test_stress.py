"""Load through the portal: 64 threads x 100 mixed sync calls, early exits and Ctrl-C-style interrupts.

Every sync caller shares the one process-wide portal. Half the calls go over real HTTP to the loopback
server (OpenAI Chat), half to in-process FunctionModels; requests, full streams, streams left early,
HTTP errors and total timeouts are mixed at random, and a chaos thread injects ``KeyboardInterrupt``
into callers that are blocked in a call — exactly what the portal sees when Ctrl-C lands in a caller
(``PyThreadState_SetAsyncExc`` raises it in that thread, as a signal handler would in the main thread).

Checked: every call ends, in the outcome its scenario allows and with *its own* result (the token it
sent comes back); no deadlock (a watchdog dumps every stack if the threads do not finish); and once the
portal is shut down, no thread of ours is left and every connection the server accepted is closed.
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import trio_direct
from tests.loopback import LoopbackServer, Reply, Request, Sleep, stall
from tests.reliability import assert_all_connections_closed, completion, openai_model, sse_text
from trio_direct import (
    ModelRateLimitError,
    ModelRequest,
    ModelResponse,
    ModelServerError,
    ModelSettings,
    PortalClosedError,
    RequestTimeoutError,
    TextPart,
    TrioDirectError,
    model_request_stream_sync,
    model_request_sync,
)
from trio_direct.messages import ModelMessage
from trio_direct.models.function import AgentInfo, FunctionModel

pytestmark = pytest.mark.slow

THREADS = 64
CALLS = 100
WATCHDOG = 180.0  # seconds before we declare a deadlock (the test takes well under a minute)

SCENARIOS = [
    "req-http",
    "req-fn",
    "stream-http",
    "stream-fn",
    "early-exit-http",
    "early-exit-fn",
    "error-429",
    "error-500",
    "timeout-http",
    "timeout-fn",
]
#: Weights: mostly successful traffic, some of every failure.
WEIGHTS = [20, 20, 15, 15, 8, 8, 4, 4, 3, 3]


def _prompt(scenario: str, token: str) -> list[ModelMessage]:
    return [ModelRequest.user_text_prompt(f"{scenario}|{token}")]


def _last_text(messages: list[ModelMessage]) -> str:
    request = messages[-1]
    assert isinstance(request, ModelRequest)
    content = request.parts[-1].content
    assert isinstance(content, str)
    return content


def _handler(request: Request) -> Reply:
    """The loopback side: the scenario and token come in the user message."""
    scenario, token = request.json["messages"][-1]["content"].split("|")
    if scenario == "req-http":
        return Reply.json(completion(f"echo {token}"))
    if scenario == "stream-http":
        return Reply.sse(sse_text("echo ", token), delay=0.002)
    if scenario == "early-exit-http":
        return Reply.sse(sse_text("echo ", token, *(["."] * 50)), delay=0.01)
    if scenario == "error-429":
        return Reply.rate_limited(1)
    if scenario == "error-500":
        return Reply.json({"error": {"message": f"boom {token}"}}, 500)
    if scenario == "timeout-http":
        return Reply.of(stall())
    raise AssertionError(f"unknown scenario {scenario}")  # pragma: no cover


async def _echo(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    import trio

    await trio.sleep(random.random() * 0.003)
    _, token = _last_text(messages).split("|")
    return ModelResponse([TextPart(f"echo {token}")])


async def _echo_stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    import trio

    scenario, token = _last_text(messages).split("|")
    if scenario == "timeout-fn":
        await trio.sleep_forever()
    yield "echo "
    await trio.sleep(random.random() * 0.003)
    yield token
    if scenario == "early-exit-fn":
        for _ in range(50):
            await trio.sleep(0.01)
            yield "."


async def _slow(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    import trio

    await trio.sleep_forever()
    raise AssertionError("not reached")  # pragma: no cover


class Worker:
    """One caller thread: its calls, their outcomes, and whether it is inside a call right now."""

    def __init__(self, index: int, url_model: Any, seed: int) -> None:
        self.index = index
        self.http = url_model
        self.echo = FunctionModel(_echo, stream_function=_echo_stream)
        self.slow = FunctionModel(_slow, stream_function=_echo_stream)
        self.rng = random.Random(seed)
        self.outcomes: list[tuple[str, str]] = []  # (scenario, outcome)
        self.failures: list[str] = []
        self.in_call = threading.Lock()  # held by the chaos thread while it injects
        self.busy = False
        self.thread = threading.Thread(target=self.run, name=f"stress-{index}", daemon=True)

    def run(self) -> None:
        try:
            for call in range(CALLS):
                scenario = self.rng.choices(SCENARIOS, WEIGHTS)[0]
                token = f"t{self.index}-{call}"
                try:
                    outcome = self.one(scenario, token)
                except KeyboardInterrupt:  # it landed in one()'s own error handling
                    outcome = "interrupted"
                self.outcomes.append((scenario, outcome))
        except BaseException as exc:  # pragma: no cover - reported by the test
            self.failures.append(f"worker crashed: {exc!r}")

    # The chaos thread injects only while `busy`, holding `in_call`; so once _leave() has returned, no
    # interrupt can reach this thread's bookkeeping.

    def one(self, scenario: str, token: str) -> str:
        with self.in_call:
            self.busy = True
        try:
            try:
                return self.call(scenario, token, f"echo {token}")
            except TrioDirectError as exc:
                return self.classify(scenario, exc)
            except KeyboardInterrupt:
                return "interrupted"
        finally:
            self._leave()

    def _leave(self) -> None:
        while True:
            try:
                with self.in_call:
                    self.busy = False
                _deliver_pending()  # an interrupt injected just before we left is raised here
                return
            except KeyboardInterrupt:
                pass  # it arrived after the call had already finished: the call's outcome stands

    def call(self, scenario: str, token: str, expected: str) -> str:
        prompt = _prompt(scenario, token)
        if scenario in ("req-http", "req-fn"):
            model = self.http if scenario == "req-http" else self.echo
            response = model_request_sync(model, prompt, timeout=30)
            return self.check(scenario, response.text, expected)
        if scenario in ("stream-http", "stream-fn"):
            model = self.http if scenario == "stream-http" else self.echo
            with model_request_stream_sync(model, prompt, timeout=30) as stream:
                events = sum(1 for _ in stream)
            if not events:
                self.failures.append(f"{scenario} {token}: no events")
            return self.check(scenario, stream.get().text, expected)
        if scenario in ("early-exit-http", "early-exit-fn"):
            model = self.http if scenario == "early-exit-http" else self.echo
            stop_after = self.rng.randint(1, 6)
            with model_request_stream_sync(model, prompt, timeout=30) as stream:
                for seen, _ in enumerate(stream, 1):
                    if seen >= stop_after:
                        break
            text = stream.get().text or ""
            if not expected.startswith(text.rstrip(".")[: len(expected)]):
                self.failures.append(f"{scenario} {token}: got someone else's text {text!r}")
            return "early-exit"
        if scenario in ("error-429", "error-500"):
            model_request_sync(self.http, prompt, timeout=30)
            self.failures.append(f"{scenario} {token}: no error")
            return "no-error"
        if scenario == "timeout-http":
            model_request_sync(self.http, prompt, timeout=0.05)
        else:
            model_request_sync(self.slow, prompt, timeout=0.05)
        self.failures.append(f"{scenario} {token}: no timeout")
        return "no-timeout"

    def check(self, scenario: str, text: str | None, expected: str) -> str:
        if text != expected:
            self.failures.append(f"{scenario}: expected {expected!r}, got {text!r}")
            return "wrong"
        return "ok"

    def classify(self, scenario: str, exc: TrioDirectError) -> str:
        allowed: dict[str, type[BaseException]] = {
            "error-429": ModelRateLimitError,
            "error-500": ModelServerError,
            "timeout-http": RequestTimeoutError,
            "timeout-fn": RequestTimeoutError,
        }
        if isinstance(exc, allowed.get(scenario, ())):
            return "expected-error"
        self.failures.append(f"{scenario}: unexpected {exc!r}")
        return "unexpected-error"


def _deliver_pending() -> None:
    """A Python-level call: CPython raises a pending async exception when a function is entered."""


def _interrupt(thread: threading.Thread) -> None:
    """Raise KeyboardInterrupt in ``thread`` at its next bytecode, as Ctrl-C does in the main thread."""
    assert thread.ident is not None
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
    )
    assert done == 1


def _chaos(workers: list[Worker], stop: threading.Event, hits: Counter[int], seed: int) -> None:
    rng = random.Random(seed)
    while not stop.wait(0.015):
        worker = rng.choice(workers)
        with worker.in_call:  # the worker cannot leave the call while we decide
            if worker.busy and worker.thread.is_alive():
                _interrupt(worker.thread)
                hits[worker.index] += 1


@pytest.fixture
def stress_server() -> Iterator[LoopbackServer]:
    with LoopbackServer(_handler, close_linger=0.2, join_timeout=20) as srv:
        yield srv


def _ours() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith(("loopback-", "Trio thread"))}


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="needs PyThreadState_SetAsyncExc")
def test_64_threads_x_100_mixed_calls_with_interrupts(stress_server: LoopbackServer) -> None:
    trio_direct.shutdown()  # a fresh portal, and no thread of an earlier test's in the books
    before = _ours()
    http = openai_model(stress_server, settings=ModelSettings(timeout=20))
    workers = [Worker(i, http, seed=1000 + i) for i in range(THREADS)]
    stop = threading.Event()
    hits: Counter[int] = Counter()
    chaos = threading.Thread(target=_chaos, args=(workers, stop, hits, 7), name="stress-chaos", daemon=True)
    start = time.monotonic()
    for worker in workers:
        worker.thread.start()
    chaos.start()
    try:
        deadline = start + WATCHDOG
        for worker in workers:
            worker.thread.join(max(deadline - time.monotonic(), 0))
        stuck = [w.thread.name for w in workers if w.thread.is_alive()]
        if stuck:  # pragma: no cover - a deadlock: show where everyone is
            faulthandler.dump_traceback(all_threads=True)
            pytest.fail(f"deadlock: {len(stuck)} threads still running after {WATCHDOG}s: {stuck[:5]}")
    finally:
        stop.set()
        chaos.join(5)
    elapsed = time.monotonic() - start

    failures = [f for w in workers for f in w.failures]
    assert not failures, failures[:20]
    outcomes = Counter(outcome for w in workers for _, outcome in w.outcomes)
    assert sum(len(w.outcomes) for w in workers) == THREADS * CALLS  # no call lost
    assert set(outcomes) <= {"ok", "early-exit", "expected-error", "interrupted"}, outcomes
    interrupted = {w.index: sum(o == "interrupted" for _, o in w.outcomes) for w in workers}
    for index, count in interrupted.items():
        # only the chaos thread interrupts; each injection interrupts at most one call
        assert count <= hits[index], (index, count, hits[index])
    assert sum(hits.values()) > 20 and outcomes["interrupted"] > 10, (hits, outcomes)
    assert outcomes["ok"] > THREADS * CALLS // 2, outcomes

    # everything is cleaned up: the portal stops, its HTTP client closes every connection
    trio_direct.shutdown()
    gc.collect()
    assert_all_connections_closed(stress_server, timeout=20)
    leaked = [t.name for t in _ours() - before if t.is_alive()]
    assert not leaked, leaked
    print(f"\n{THREADS}x{CALLS} calls in {elapsed:.1f}s: {dict(outcomes)}; {sum(hits.values())} interrupts")


# ---------------------------------------------------------------------------------------------
# shutdown() while calls are in flight
# ---------------------------------------------------------------------------------------------


def test_shutdown_with_calls_in_flight_raises_portal_closed(stress_server: LoopbackServer) -> None:
    """Requests waiting on a stalled server, streams mid-iteration and streams still opening all end
    in PortalClosedError when the portal is shut down under them; a later call starts a new portal."""

    def handler(request: Request) -> Reply:
        kind = request.json["messages"][-1]["content"].split("|")[0]
        if kind == "request":
            return Reply.of(stall())  # no answer at all
        if kind == "mid":
            # events, then the body never ends (no `[DONE]`: a stream finishes at its end marker)
            return Reply.sse(sse_text("a", "b")[:-1], then=stall())
        return Reply((Sleep(30.0),))  # "open": the head never comes

    stress_server.handler = handler
    http = openai_model(stress_server, settings=ModelSettings(timeout=60))
    slow = FunctionModel(_slow, stream_function=_echo_stream)
    ready = threading.Barrier(33)
    results: list[BaseException | str] = []
    lock = threading.Lock()

    def record(value: BaseException | str) -> None:
        with lock:
            results.append(value)

    def request(model: Any) -> None:
        ready.wait()
        try:
            model_request_sync(model, [ModelRequest.user_text_prompt("request|x")])
            record("returned")
        except BaseException as exc:
            record(exc)

    def stream_mid_iteration() -> None:
        try:
            with model_request_stream_sync(http, [ModelRequest.user_text_prompt("mid|x")]) as stream:
                for i, _ in enumerate(stream):
                    if i == 0:
                        ready.wait()
            record("returned")
        except BaseException as exc:
            record(exc)

    def stream_opening() -> None:
        ready.wait()
        try:
            with model_request_stream_sync(http, [ModelRequest.user_text_prompt("open|x")]) as stream:
                for _ in stream:
                    pass
            record("returned")
        except BaseException as exc:
            record(exc)

    threads = []
    for i in range(8):
        threads.append(threading.Thread(target=request, args=(http,), name=f"stress-req-{i}"))
        threads.append(threading.Thread(target=request, args=(slow,), name=f"stress-fn-{i}"))
    for i in range(8):
        threads.append(threading.Thread(target=stream_mid_iteration, name=f"stress-mid-{i}"))
    for i in range(8):
        threads.append(threading.Thread(target=stream_opening, name=f"stress-open-{i}"))
    for thread in threads:
        thread.start()
    ready.wait(timeout=30)
    stress_server.wait_for_requests(24, timeout=30)
    time.sleep(0.1)  # let the last submissions reach the portal

    start = time.monotonic()
    trio_direct.shutdown()
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads)
    assert time.monotonic() - start < 10
    assert len(results) == 32
    assert all(isinstance(r, PortalClosedError) for r in results), [
        r for r in results if not isinstance(r, PortalClosedError)
    ]
    assert_all_connections_closed(stress_server, timeout=10)

    # the next call starts a fresh portal
    stress_server.handler = None
    stress_server.enqueue(Reply.json(completion("again")))
    assert model_request_sync(http, [ModelRequest.user_text_prompt("x|y")], timeout=10).text == "again"
    trio_direct.shutdown()
