"""The server as `qa serve` runs it (uvicorn with api/server.py's options), over real sockets: forwarded
headers, head size and time bounds, stalled bodies, the connection cap."""

import socket
import time

import httpx
import pytest
from live_server import LiveServer

from policyqa.api.app import create_app
from policyqa.api.server import uvicorn_options

from .conftest import make_settings


def Served(settings) -> LiveServer:
    """The app on a real socket with exactly the uvicorn options `qa serve` uses."""
    return LiveServer(create_app(settings), **uvicorn_options(settings))


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 10 s pass)."""
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return out


@pytest.fixture(scope="module")
def served(index_dir):
    settings = make_settings(
        index_dir, rate_limit=0, max_url_bytes=2048, max_header_bytes=4096, header_timeout=1.0, body_timeout=1.0,
        max_concurrency=50,
    )
    with Served(settings) as s:
        yield s


def test_uvicorn_does_not_take_the_client_from_x_forwarded_for(index_dir):
    """uvicorn by default rewrites the client address from X-Forwarded-For for peers on 127.0.0.1, which
    let any local client pick a fresh address per request and never be limited."""
    if time.time() % 60 > 50:  # the limit counts per aligned minute: start well inside one
        time.sleep(60 - time.time() % 60 + 0.1)
    with Served(make_settings(index_dir, rate_limit=3)) as s:
        codes = [
            httpx.post(s.url + "/v1/search", json={"query": "养老"}, headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(5)
        ]
    assert codes == [200, 200, 200, 429, 429]


def test_a_huge_header_is_refused_before_it_is_read(served):
    with served.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 64 * 2**20:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_response(sock)
    assert reply.startswith(b"HTTP/1.1 431"), reply[:200]
    # refused at the bound, not after buffering the whole header (the socket buffers a few MiB at most)
    assert sent < 16 * 2**20, sent


def test_a_huge_request_line_is_414(served):
    with served.connect() as sock:
        try:
            sock.sendall(b"GET /" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert read_response(sock).startswith(b"HTTP/1.1 414")


def test_headers_over_the_setting_but_under_the_socket_bound_get_431_from_the_middleware(served):
    r = httpx.get(served.url + "/healthz", headers={"X-Pad": "p" * 5000})
    assert r.status_code == 431 and r.json()["error"]["field"] == "headers"


def test_a_half_sent_request_head_is_closed_with_408(served):
    with served.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        reply = read_response(sock)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]


def test_a_silent_connection_is_closed(served):
    with served.connect() as sock:
        assert read_response(sock).startswith(b"HTTP/1.1 408")


def test_a_stalled_body_gets_408(served):
    with served.connect() as sock:
        sock.sendall(
            b"POST /v1/ask HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"query\": "
        )
        reply = read_response(sock)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:300]
    assert b"request_timeout" in reply and b'"field":"body"' in reply


def test_keep_alive_still_works(served):
    with httpx.Client(base_url=served.url) as c:
        assert [c.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]


def test_connections_over_the_cap_get_503(index_dir):
    settings = make_settings(index_dir, max_concurrency=3)
    with Served(settings) as s:
        idle = [s.connect() for _ in range(3)]
        try:
            time.sleep(0.2)
            r = httpx.get(s.url + "/healthz")
            assert r.status_code == 503
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.2)
        assert httpx.get(s.url + "/healthz").status_code == 200


def test_several_workers_share_the_cores_instead_of_each_taking_all():
    from policyqa.api.server import worker_thread_env

    assert worker_thread_env(1, 2, {}) == {}  # one worker: the library's own default (every core)
    assert worker_thread_env(2, 2, {}) == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    assert worker_thread_env(2, 8, {})["OMP_NUM_THREADS"] == "4"
    assert worker_thread_env(4, 2, {})["OMP_NUM_THREADS"] == "1"  # never zero
    assert "OMP_NUM_THREADS" not in worker_thread_env(2, 2, {"OMP_NUM_THREADS": "2"})  # the operator's choice wins
