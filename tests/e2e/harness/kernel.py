"""A second client of a notebook's running kernel, to run code and read values."""

from __future__ import annotations

import ast
import contextlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from .processes import wait_until
from .settings import SYNC_TIMEOUT


class KernelError(AssertionError):
    pass


class KernelClient:
    """A second client of a running kernel (jupyter_client.BlockingKernelClient).

    All zmq work happens on one private thread, away from Playwright's event loop.
    """

    def __init__(self, connection_file: Path, timeout: float = 120.0) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-client")
        self._kc: Any = None
        self._pool.submit(self._connect, connection_file, timeout).result(timeout + 10)

    def _connect(self, connection_file: Path, timeout: float) -> None:
        import zmq
        from jupyter_client.blocking.client import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_file(str(connection_file))
        # The kernel's IOPub socket drops what a subscriber's 1,000-message queue cannot hold:
        # a test that sends 1,000 messages in a burst would lose its own cell's reply. An
        # unbounded receive queue here keeps this client's pipe drained.
        kc.context.setsockopt(zmq.RCVHWM, 0)
        kc.start_channels()
        kc.wait_for_ready(timeout=timeout)
        self._kc = kc

    def _run(self, code: str, user_expressions: dict[str, str], timeout: float) -> dict[str, Any]:
        outputs: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                outputs.append(content["text"])
            elif kind == "error":
                outputs.append("\n".join(content.get("traceback", [])))

        reply = self._kc.execute_interactive(
            code,
            store_history=False,
            allow_stdin=False,
            user_expressions=user_expressions,
            timeout=timeout,
            output_hook=hook,
        )
        content = dict(reply["content"])
        content["_outputs"] = "".join(outputs)
        return content

    def execute(self, code: str, timeout: float = 60.0) -> str:
        """Runs `code` in the kernel; returns its printed output; raises KernelError on error."""
        content = self._pool.submit(self._run, code, {}, timeout).result(timeout + 10)
        if content.get("status") != "ok":
            raise KernelError(
                f"kernel error running {code!r}: {content.get('ename')}: {content.get('evalue')}\n"
                f"{content['_outputs'][-3000:]}"
            )
        return str(content["_outputs"])

    def eval(self, expr: str, timeout: float = 60.0) -> Any:
        """The value of the Python expression `expr` in the kernel (through JSON: tuples come
        back as lists, numpy values as Python ones)."""
        wrapped = (
            f"__import__('json').dumps(({expr}), default=lambda o: o.tolist() "
            "if hasattr(o, 'tolist') else (list(o) if isinstance(o, (tuple, set)) else str(o)))"
        )
        content = self._pool.submit(self._run, "", {"v": wrapped}, timeout).result(timeout + 10)
        result = content.get("user_expressions", {}).get("v", {})
        if content.get("status") != "ok" or result.get("status") != "ok":
            raise KernelError(
                f"kernel error evaluating {expr!r}: {result.get('ename')}: {result.get('evalue')}"
            )
        return json.loads(ast.literal_eval(result["data"]["text/plain"]))

    def wait_for(
        self, expr: str, predicate: Callable[[Any], bool], what: str, timeout: float = SYNC_TIMEOUT
    ) -> Any:
        """Polls `expr` in the kernel until `predicate(value)`; returns the value."""
        seen: list[Any] = []

        def check() -> tuple[Any] | None:
            value = self.eval(expr)
            seen.append(value)
            return (value,) if predicate(value) else None

        return wait_until(
            check, timeout, what, 0.25, diagnose=lambda: f"last {expr} = {seen[-1:]!r}"
        )[0]

    def close(self) -> None:
        if self._kc is not None:
            with contextlib.suppress(Exception):
                self._pool.submit(self._kc.stop_channels).result(10)
        self._pool.shutdown(wait=False)
