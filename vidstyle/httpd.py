"""A small HTTP server for vidstyle's local endpoints (live preview, metrics, the web page).

Routes map a path to a handler, ``handler(request) -> Response``; the path is matched as sent,
without its query string, exactly or (``prefix=True``) by its start. A response body is bytes
(sent with a Content-Length) or an iterable of byte chunks, streamed as they come until it ends
(the connection then closes: an MJPEG feed, a progress stream). The server listens on loopback
unless told otherwise, serves from daemon threads, prints nothing (the terminal belongs to the
progress line; handler failures go to the debug log as a 500), says in one line when its port is
taken, and frees the port when closed::

    with HttpServer("metrics", port=9100) as http:
        http.route("/metrics", lambda request: Response(body=text().encode()))
        ...
"""

from __future__ import annotations

import json
import mimetypes
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from pathlib import Path
from urllib.parse import parse_qs

from .errors import OutputError
from .log import log

LOOPBACK = "127.0.0.1"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Response:
    """What a handler returns. ``body``: bytes, or an iterable of byte chunks to stream;
    ``headers`` follow Content-Type (and Content-Length for bytes), in order."""

    status: int = 200
    content_type: str = "text/plain; charset=utf-8"
    body: bytes | Iterable[bytes] = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: object, status: int = 200) -> Response:
        """``data`` as a JSON document."""
        return cls(status, "application/json", json.dumps(data).encode())

    @classmethod
    def file(cls, root: Path, relative: str) -> Response:
        """The file ``relative`` under the folder ``root`` (Content-Type from its suffix); raises
        HttpError 404 when it is missing or lies outside ``root``."""
        base = Path(root).resolve()
        path = (base / relative.lstrip("/")).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            raise HttpError(404, "not found")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return cls(200, kind, path.read_bytes())


class HttpError(Exception):
    """Raised by a handler to answer ``status`` with a one-line plain-text ``message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    """One request: ``path`` as sent without its query, ``query`` parsed (name -> values)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    stream: BufferedIOBase  # the request body follows here (Content-Length bytes)

    def chunks(self, limit: int, size: int = 1 << 16) -> Iterator[bytes]:
        """The body in pieces of at most ``size`` bytes; 411 without a Content-Length, 413 when it
        is over ``limit`` bytes."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise HttpError(411, "a Content-Length is required")
        left = int(length)
        if left > limit:
            raise HttpError(413, f"the body is over {limit} bytes")
        while left > 0:
            piece = self.stream.read(min(size, left))
            if not piece:
                raise HttpError(400, "the body ended early")
            left -= len(piece)
            yield piece

    def body(self, limit: int = 1 << 20) -> bytes:
        """The whole body (at most ``limit`` bytes; see :meth:`chunks`)."""
        return b"".join(self.chunks(limit))


Handler = Callable[[Request], Response]


def _not_found(request: Request) -> Response:
    return Response(404, body=b"not found\n")


class HttpServer:
    """Routes served on ``host:port`` (port 0: any free one) from a daemon thread, once started
    (:meth:`start` or ``with``) until :meth:`close`. ``name`` names it in errors and its thread;
    ``not_found`` answers paths no route takes. :attr:`closing` is set when it closes, for
    streaming handlers to end on."""

    def __init__(self, name: str, host: str = LOOPBACK, port: int = 0, not_found: Handler = _not_found):
        self.name, self.host, self.port = name, host, port
        self.not_found = not_found
        self.closing = threading.Event()
        self._exact: dict[str, dict[str, Handler]] = {}
        self._prefix: dict[str, dict[str, Handler]] = {}
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def route(
        self, path: str, handler: Handler, methods: Iterable[str] = ("GET",), prefix: bool = False
    ) -> None:
        """Send ``methods`` requests for ``path`` (or, with ``prefix``, any path starting with it)
        to ``handler``."""
        table = (self._prefix if prefix else self._exact).setdefault(path, {})
        for method in methods:
            if method.upper() not in METHODS:
                raise ValueError(f"unsupported HTTP method {method!r}")
            table[method.upper()] = handler

    def handlers(self, path: str) -> dict[str, Handler] | None:
        """method -> handler for ``path``: its exact route, else its longest prefix route."""
        if path in self._exact:
            return self._exact[path]
        starts = [p for p in self._prefix if path.startswith(p)]
        return self._prefix[max(starts, key=len)] if starts else None

    def serves(self, method: str) -> bool:
        """Whether any route takes ``method`` (others get 501, as from the standard library)."""
        return any(method in table for table in (*self._exact.values(), *self._prefix.values()))

    def start(self) -> HttpServer:
        """Listen and serve; OutputError (one line) when the address cannot be taken."""
        if self._httpd is not None:
            return self
        server_class = _Server6 if ":" in self.host else _Server
        try:
            httpd = server_class((self.host, self.port), _RequestHandler)
        except (OSError, OverflowError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise OutputError(f"{self.name} server cannot listen on {self.host}:{self.port}: {why}") from None
        httpd.app = self
        self._httpd, self.port = httpd, httpd.server_address[1]
        self.closing.clear()
        self._thread = threading.Thread(target=httpd.serve_forever, name=f"vidstyle-{self.name}", daemon=True)
        self._thread.start()
        return self

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        """Stop serving and free the port (requests in flight finish on their own threads)."""
        self.closing.set()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # a closed server's port can be taken again at once
    allow_reuse_port = False  # but never by two live servers
    app: HttpServer

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug(f"{self.app.name} server: a request from {client_address} failed", exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # the terminal belongs to the progress line

    def _dispatch(self) -> None:
        app = self.server.app
        if not app.serves(self.command):
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
            return
        path, _, query = self.path.partition("?")
        request = Request(self.command, path, parse_qs(query), self.headers, self.rfile)
        table = app.handlers(path)
        try:
            if table is None:
                response = app.not_found(request)
            elif self.command in table:
                response = table[self.command](request)
            else:
                allowed = ", ".join(sorted(table))
                response = Response(405, body=b"method not allowed\n", headers={"Allow": allowed})
        except HttpError as exc:
            response = Response(exc.status, body=f"{exc}\n".encode())
        except Exception:  # noqa: BLE001 - a handler's bug: 500 here, the traceback in the debug log
            log.debug(f"{app.name} server: {self.command} {path} failed", exc_info=True)
            response = Response(500, body=b"internal error\n")
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        body = response.body
        if isinstance(body, bytes):
            self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            if self.command == "HEAD":
                return
            for chunk in [body] if isinstance(body, bytes) else body:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client went away
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()  # a generator body runs its cleanup now

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch
