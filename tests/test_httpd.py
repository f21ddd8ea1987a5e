"""httpd: routes, 404/405/501, bodies in and out, streaming, a taken port, and a clean close."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request

import pytest

from vidstyle.errors import OutputError
from vidstyle.httpd import LOOPBACK, HttpError, HttpServer, Request, Response


def fetch(server: HttpServer, path: str, method: str = "GET", body: bytes | None = None):
    """(status, headers, body) of one request."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def test_routes_answer_with_their_status_type_headers_and_body():
    with HttpServer("test") as server:
        server.route("/hello", lambda r: Response(body=b"hi " + ",".join(r.query.get("n", [])).encode()))
        server.route("/data.json", lambda r: Response.json({"a": [1, 2]}))
        server.route("/gone", lambda r: Response(410, "text/x-test", b"x", {"Cache-Control": "no-store"}))
        assert server.host == LOOPBACK and server.port > 0
        assert server.url("/hello") == f"http://127.0.0.1:{server.port}/hello"

        status, headers, body = fetch(server, "/hello?n=1&n=2")
        assert (status, body) == (200, b"hi 1,2")
        assert headers["Content-Type"] == "text/plain; charset=utf-8" and headers["Content-Length"] == "6"

        status, headers, body = fetch(server, "/data.json")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert json.loads(body) == {"a": [1, 2]}

        status, headers, body = fetch(server, "/gone")
        assert (status, headers["Content-Type"], headers["Cache-Control"], body) == (
            410,
            "text/x-test",
            "no-store",
            b"x",
        )
        # headers go out in order: Content-Type, Content-Length, then the response's own
        names = [k for k in headers.keys() if k not in ("Server", "Date")]
        assert names == ["Content-Type", "Content-Length", "Cache-Control"]


def test_unknown_paths_are_404_and_the_answer_can_be_replaced():
    with HttpServer("test") as server:
        server.route("/a", lambda r: Response())
        assert fetch(server, "/b")[::2] == (404, b"not found\n")
        assert fetch(server, "/a/b")[0] == 404  # exact routes take their path only
    custom = HttpServer(
        "test", not_found=lambda r: Response(404, "text/x-mine", b"try /a " + r.path.encode())
    )
    with custom:
        custom.route("/a", lambda r: Response())
        status, headers, body = fetch(custom, "/zzz?q=1")
        assert (status, headers["Content-Type"], body) == (404, "text/x-mine", b"try /a /zzz")


def test_prefix_routes_take_every_path_that_starts_with_them_longest_first():
    with HttpServer("test") as server:
        server.route("/static/", lambda r: Response(body=b"static " + r.path.encode()), prefix=True)
        server.route("/static/deep/", lambda r: Response(body=b"deep"), prefix=True)
        server.route("/static/exact", lambda r: Response(body=b"exact"))
        assert fetch(server, "/static/app.js")[2] == b"static /static/app.js"
        assert fetch(server, "/static/deep/x")[2] == b"deep"
        assert fetch(server, "/static/exact")[2] == b"exact"
        assert fetch(server, "/stat")[0] == 404


def test_a_known_path_with_another_method_is_405_and_an_unserved_method_501():
    with HttpServer("test") as server:
        server.route("/upload", lambda r: Response(), methods=("POST", "PUT"))
        server.route("/page", lambda r: Response())
        status, headers, _ = fetch(server, "/upload")
        assert status == 405 and headers["Allow"] == "POST, PUT"
        assert fetch(server, "/page", "POST", b"")[0] == 405
        assert fetch(server, "/page", "DELETE")[0] == 501  # no route takes DELETE: as the standard library


def test_post_bodies_are_read_up_to_a_limit():
    def upload(request: Request) -> Response:
        return Response.json({"bytes": len(request.body(limit=1000))})

    with HttpServer("test") as server:
        server.route("/upload", upload, methods=("POST",))
        status, _, body = fetch(server, "/upload", "POST", b"x" * 700)
        assert status == 200 and json.loads(body) == {"bytes": 700}
        status, _, body = fetch(server, "/upload", "POST", b"x" * 1001)
        assert status == 413 and body == b"the body is over 1000 bytes\n"


def test_handler_errors_answer_their_status_or_500_without_printing(capfd):
    def bad(request: Request) -> Response:
        raise RuntimeError("boom")

    def refused(request: Request) -> Response:
        raise HttpError(403, "not yours")

    with HttpServer("test") as server:
        server.route("/bad", bad)
        server.route("/refused", refused)
        assert fetch(server, "/bad")[::2] == (500, b"internal error\n")
        assert fetch(server, "/refused")[::2] == (403, b"not yours\n")
    out, err = capfd.readouterr()
    assert "boom" not in err and "GET /" not in err  # no request log, no traceback on the terminal


def test_a_streamed_body_is_sent_chunk_by_chunk_and_its_generator_is_closed():
    cleaned = threading.Event()
    second_asked = threading.Event()

    def chunks():
        try:
            yield b"first;"
            second_asked.set()
            yield b"second;"
        finally:
            cleaned.set()

    with HttpServer("test") as server:
        server.route("/feed", lambda r: Response(200, "multipart/x-test", chunks()))
        status, headers, body = fetch(server, "/feed")
        assert (status, body) == (200, b"first;second;")
        assert "Content-Length" not in headers  # the connection's end marks the body's end
        assert second_asked.is_set() and cleaned.wait(5)


def test_static_files_stay_under_their_folder(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "app.js").write_text("let x = 1;")
    (tmp_path / "secret.txt").write_text("no")
    with HttpServer("test") as server:
        server.route(
            "/static/", lambda r: Response.file(tmp_path / "site", r.path[len("/static/") :]), prefix=True
        )
        status, headers, body = fetch(server, "/static/app.js")
        assert (status, body) == (200, b"let x = 1;") and "javascript" in headers["Content-Type"]
        assert fetch(server, "/static/../secret.txt")[0] == 404
        assert fetch(server, "/static/missing.css")[0] == 404


def test_a_taken_port_is_one_line_and_close_frees_it():
    first = HttpServer("first").start()
    port = first.port
    with pytest.raises(
        OutputError, match=f"^second server cannot listen on 127.0.0.1:{port}: Address already in use$"
    ):
        HttpServer("second", port=port).start()
    first.close()
    assert first.closing.is_set()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
    with HttpServer("again", port=port) as again:  # the port is free at once
        again.route("/", lambda r: Response(body=b"back"))
        assert fetch(again, "/")[2] == b"back"
    first.close()  # closing twice is harmless


def test_close_ends_the_serving_thread():
    server = HttpServer("threads").start()
    assert any(t.name == "vidstyle-threads" for t in threading.enumerate())
    server.close()
    assert not any(t.name == "vidstyle-threads" for t in threading.enumerate())


def test_unknown_methods_cannot_be_routed():
    with pytest.raises(ValueError, match="BREW"):
        HttpServer("test").route("/", lambda r: Response(), methods=("BREW",))
