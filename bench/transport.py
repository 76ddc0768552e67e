"""Where the time of a big widget message goes: the same bytes through each hop of JupyterLab's
transport, and through each hop's bare technology, on this machine, in one run.

    python bench/transport.py [--mb 12] [--reps 9]

12 MB is what `set_data` of 1M weighted rows sends (wire format 2: 12 bytes a row). Each rep
waits 2 s first (a user's `set_data` follows quiet). Rows, each Python's send → the receiver's
arrival, all stamps on this machine's wall clock:

- TCP over loopback: Python's sockets, two threads of one process (the machine's floor).
- ZMQ PUB → SUB over loopback (pyzmq, two contexts, zero-copy send): the hop from the kernel's
  IOPub socket to jupyter_server.
- WebSocket, tornado (what jupyter_server sends with) → a client that shakes hands and then
  only drains the bytes: the server's sending alone. The same for the `websockets` library's
  server, to compare.
- WebSocket, tornado → Chromium (and `websockets` → Chromium): the same server code to a
  WebSocket of the Lab page (its `onmessage`), without Jupyter.
- Jupyter: a custom message of a bare anywidget (no view), the kernel's `send` → the Lab page's
  kernel WebSocket `onmessage` (kernel → ZMQ → jupyter_server → WebSocket → Chromium) → the
  widget's handler (JupyterLab's deserialisation, the comm, anywidget's dispatch).

The kernel is driven by a client of its shell channel only, so that, as for a user, the server
is its IOPub socket's one subscriber. The page's WebSocket objects are found with CDP's
`Runtime.queryObjects` and their `onmessage` wrapped to stamp big messages.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from e2e_helpers import PROBE_PY, ShellClient, lab_session, load_harness, notebook  # noqa: E402

wait_until = load_harness().wait_until

QUIET_S = 2.0

# Wraps onmessage of every WebSocket in the page (`this`: CDP's array of them) to stamp the
# arrival of messages bigger than `min`.
HOOK_JS = """function(min) {
  for (const ws of this) {
    if (ws.__stamped) continue;
    ws.__stamped = true;
    const inner = ws.onmessage;
    ws.onmessage = function (ev) {
      const n = ev.data && ev.data.byteLength;
      if (n > min) (window.__wsArrivals = window.__wsArrivals || []).push(Date.now());
      return inner && inner.call(this, ev);
    };
  }
  return this.length;
}"""


def tcp_loopback(payload: bytes, reps: int) -> list[float]:
    srv = socket.create_server(("127.0.0.1", 0))
    tx = socket.create_connection(srv.getsockname())
    rx, _ = srv.accept()
    out = []
    for _ in range(reps):
        time.sleep(QUIET_S)
        arrived: list[float] = []

        def receive(arrived: list[float] = arrived) -> None:
            buf = memoryview(bytearray(len(payload)))
            got = 0
            while got < len(payload):
                got += rx.recv_into(buf[got:])
            arrived.append(time.time())

        t = threading.Thread(target=receive)
        t.start()
        t0 = time.time()
        tx.sendall(payload)
        t.join()
        out.append(arrived[0] - t0)
    for s in (tx, rx, srv):
        s.close()
    return out


def zmq_pub_sub(payload: bytes, reps: int) -> list[float]:
    import zmq

    pub_ctx, sub_ctx = zmq.Context(), zmq.Context()
    pub, sub = pub_ctx.socket(zmq.PUB), sub_ctx.socket(zmq.SUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://127.0.0.1:{port}")
    time.sleep(0.5)  # the subscription reaches the publisher
    out = []
    for _ in range(reps):
        time.sleep(QUIET_S)
        t0 = time.time()
        pub.send_multipart([b"header", payload], copy=False)
        sub.recv_multipart(copy=False)
        out.append(time.time() - t0)
    pub.close(0)
    sub.close(0)
    pub_ctx.term()
    sub_ctx.term()
    return out


class Sender:
    """A WebSocket server on 127.0.0.1, on a thread and event loop of its own, that sends
    `payload` to every connected client on `send()` and returns the time it started to."""

    name = ""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.clients: list[Any] = []
        self.port = 0
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.listen())
            started.set()
            self.loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        started.wait(10)

    async def listen(self) -> None:
        raise NotImplementedError

    def write(self, client: Any) -> None:
        raise NotImplementedError

    def send(self) -> float:
        stamp: list[float] = []
        done = threading.Event()

        def go() -> None:
            stamp.append(time.time())
            for c in self.clients:
                self.write(c)
            done.set()

        self.loop.call_soon_threadsafe(go)
        done.wait(10)
        return stamp[0]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


class TornadoSender(Sender):
    """tornado's WebSocketHandler: what jupyter_server sends the page its kernel messages with."""

    name = "tornado"

    async def listen(self) -> None:
        import tornado.httpserver
        import tornado.netutil
        import tornado.web
        import tornado.websocket

        clients = self.clients

        class Handler(tornado.websocket.WebSocketHandler):
            def check_origin(self, origin: str) -> bool:  # noqa: ARG002
                return True  # the Lab page: another port of 127.0.0.1

            def open(self, *args: str, **kwargs: str) -> None:  # noqa: ARG002
                clients.append(self)

            def on_close(self) -> None:
                clients.remove(self)

        socks = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = socks[0].getsockname()[1]
        tornado.httpserver.HTTPServer(tornado.web.Application([("/ws", Handler)])).add_sockets(
            socks
        )

    def write(self, client: Any) -> None:
        client.write_message(self.payload, binary=True)


class WebsocketsSender(Sender):
    """The `websockets` library's server, without compression: another server, to compare."""

    name = "websockets"

    async def listen(self) -> None:
        from websockets.asyncio.server import serve

        async def handler(ws: Any) -> None:
            self.clients.append(ws)
            await ws.wait_closed()
            self.clients.remove(ws)

        self.server = await serve(handler, "127.0.0.1", 0, max_size=None, compression=None)
        self.port = next(iter(self.server.sockets)).getsockname()[1]

    def write(self, client: Any) -> None:
        self.loop.create_task(client.send(self.payload))


def to_draining_client(sender: Sender, reps: int) -> list[float]:
    """A client that shakes hands by hand, then only drains the frame's bytes: the server's
    sending alone."""
    sock = socket.create_connection(("127.0.0.1", sender.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    wait_until(lambda: sender.clients, 60, "a client")
    frame = len(sender.payload) + 10  # a 64-bit length's header, unmasked
    buf = memoryview(bytearray(frame))
    out = []
    for _ in range(reps):
        time.sleep(QUIET_S)
        t0 = sender.send()
        got = 0
        while got < frame:
            got += sock.recv_into(buf[got:])
        out.append(time.time() - t0)
    sock.close()
    wait_until(lambda: not sender.clients, 60, "no client")
    return out


def to_chromium(sender: Sender, page: Any, reps: int) -> list[float]:
    page.evaluate(
        """(port) => new Promise((ok) => {
          const ws = window.__bare = new WebSocket(`ws://127.0.0.1:${port}/ws`);
          ws.binaryType = 'arraybuffer';
          ws.onmessage = () => { window.__bareAt = Date.now(); };
          ws.onopen = () => ok(true);
        })""",
        sender.port,
    )
    wait_until(lambda: sender.clients, 60, "a client")
    out = []
    for _ in range(reps):
        page.evaluate("() => { window.__bareAt = null; }")
        time.sleep(QUIET_S)
        t0 = sender.send()
        at = wait_until(lambda: page.evaluate("window.__bareAt"), 60, "the message", 0.005)
        out.append(at / 1000 - t0)
    page.evaluate("() => window.__bare.close()")
    wait_until(lambda: not sender.clients, 60, "no client")
    return out


def jupyter_to_chromium(
    lab: Any, page: Any, nbytes: int, reps: int
) -> tuple[list[float], list[float], list[float]]:
    """(kernel's send → the page's WebSocket, → the widget's handler, the send call)."""
    kernel = ShellClient(lab.server.connection_file(lab.server.kernel_id_for("bench.ipynb")))
    kernel.run(PROBE_PY)
    wait_until(lambda: page.evaluate("window.__probeReady === true"), 60, "the probe")
    proto = page.send("Runtime.evaluate", {"expression": "WebSocket.prototype"})["result"]
    found = page.send("Runtime.queryObjects", {"prototypeObjectId": proto["objectId"]})
    page.send(
        "Runtime.callFunctionOn",
        {
            "objectId": found["objects"]["objectId"],
            "functionDeclaration": HOOK_JS,
            "arguments": [{"value": nbytes // 2}],
        },
    )
    kernel.run(f"payload = bytes({nbytes})")
    ws_at, handler_at, call = [], [], []
    for _ in range(reps):
        page.evaluate("() => { window.__probe = null; window.__wsArrivals = []; }")
        time.sleep(QUIET_S)
        t0, t1 = (
            float(v)
            for v in kernel.run(
                "t0 = time.time(); probe.send({}, [payload]); t1 = time.time()", "f'{t0} {t1}'"
            ).split()
        )
        probe = wait_until(lambda: page.evaluate("window.__probe"), 60, "the message", 0.005)
        arrivals = page.evaluate("window.__wsArrivals")
        if probe["bytes"] != nbytes or len(arrivals) != 1:
            raise RuntimeError(f"expected one message of {nbytes} B: {probe}, {arrivals}")
        ws_at.append(arrivals[0] / 1000 - t0)
        handler_at.append(probe["at"] / 1000 - t0)
        call.append(t1 - t0)
    kernel.close()
    return ws_at, handler_at, call


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mb", type=float, default=12.0, help="message size, MB (10^6 bytes)")
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args()
    nbytes = int(args.mb * 1e6)
    payload = bytes(nbytes)
    load_start = Path("/proc/loadavg").read_text().split()[:3]
    rows: list[tuple[str, list[float]]] = []
    rows.append(("TCP over loopback, Python sockets", tcp_loopback(payload, args.reps)))
    rows.append(
        (
            "ZMQ PUB → SUB over loopback (pyzmq): the kernel's IOPub → the server",
            zmq_pub_sub(payload, args.reps),
        )
    )
    senders: list[Sender] = [TornadoSender(payload), WebsocketsSender(payload)]
    for sender in senders:
        rows.append(
            (
                f"WebSocket, {sender.name} → a client that only drains the bytes",
                to_draining_client(sender, args.reps),
            )
        )
    with lab_session("transport", notebook("import anywidget"), plain_cdp=True) as lab:
        page = lab.plain_page()
        for sender in senders:
            rows.append(
                (
                    f"WebSocket, {sender.name} → Chromium's onmessage",
                    to_chromium(sender, page, args.reps),
                )
            )
        ws_at, handler_at, call = jupyter_to_chromium(lab, page, nbytes, args.reps)
        rows.append(("Jupyter: kernel's send → the page's kernel WebSocket onmessage", ws_at))
        rows.append(("Jupyter: kernel's send → the anywidget's handler", handler_at))
        page.close()
    for sender in senders:
        sender.stop()
    load_end = Path("/proc/loadavg").read_text().split()[:3]
    base = statistics.median(rows[0][1])
    print(
        f"{nbytes / 1e6:g} MB a message, {args.reps} reps each after {QUIET_S:g} s of quiet; "
        f"load average {' '.join(load_start)} at start, {' '.join(load_end)} at end; "
        f"the kernel's send call itself {statistics.median(call) * 1e3:.1f} ms\n"
    )
    print("| hop | ms, median (min–max) | MB/s | × TCP |")
    print("|---|---|---|---|")
    for name, v in rows:
        m = statistics.median(v)
        print(
            f"| {name} | {m * 1e3:.1f} ({min(v) * 1e3:.1f}–{max(v) * 1e3:.1f}) | "
            f"{nbytes / 1e6 / m:.0f} | {m / base:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
