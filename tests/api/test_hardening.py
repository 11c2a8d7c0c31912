"""Abuse resistance: who the client is, rate and admin-attempt limits (in memory and shared through Redis),
request size and time bounds, security headers, HEAD, date ranges, salted query hashes."""

import hashlib
import json
import logging
import time

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from policyqa.api.app import create_app
from policyqa.api.limits import Limits, client_key, parse_networks
from policyqa.qa.settings import Settings

from .conftest import make_settings


def away_from_a_window_edge(window: int = 60) -> None:
    """Counts are kept per aligned window (weighted by the previous one): start a short test well inside one."""
    if time.time() % window > window - 3:
        time.sleep(window - time.time() % window + 0.1)


# --- who the client is ------------------------------------------------------------------------------

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(
    "peer,forwarded,expected",
    [
        ("203.0.113.7", [], "203.0.113.7"),
        # not from a trusted proxy: the header is the client's own words
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),
        # from our proxy: the rightmost hop that is not ours; the client-written leftmost is never believed
        ("10.0.0.2", ["1.2.3.4, 198.51.100.9"], "198.51.100.9"),
        ("10.0.0.2", ["6.6.6.6", "198.51.100.9, 10.0.0.5"], "198.51.100.9"),
        ("10.0.0.2", ["10.1.1.1, 10.0.0.5"], "10.1.1.1"),  # every hop ours: the first of them
        ("10.0.0.2", ["1.2.3.4, not-an-ip"], "10.0.0.2"),  # garbage where the client should be: the proxy
        ("10.0.0.2", [], "10.0.0.2"),
        # one IPv6 machine owns a /64: it is counted as one
        ("2001:db8:1:2:3:4:5:6", [], "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", [], "203.0.113.7"),
        ("fd00::1", ["2001:db8::1"], "2001:db8::/64"),
    ],
)
def test_client_key(peer, forwarded, expected):
    assert client_key(peer, forwarded, PROXIES) == expected


def test_client_key_without_trusted_proxies_ignores_the_header():
    assert client_key("10.0.0.2", ["1.2.3.4"], ()) == "10.0.0.2"


def test_the_old_trust_proxy_switch_is_refused_naming_its_replacement(monkeypatch):
    monkeypatch.setenv("QA_TRUST_PROXY", "true")
    with pytest.raises(ValidationError, match="QA_TRUSTED_PROXIES"):
        Settings()
    monkeypatch.setenv("QA_TRUST_PROXY", "false")  # what the new default does anyway
    Settings()


def test_trusted_proxies_are_validated(monkeypatch):
    monkeypatch.setenv("QA_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    monkeypatch.setenv("QA_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")
    with pytest.raises(ValidationError, match="proxy.local"):
        Settings()


# --- rate limits ------------------------------------------------------------------------------------


def test_x_forwarded_for_does_not_bypass_the_rate_limit(index_dir):
    away_from_a_window_edge()
    with TestClient(create_app(make_settings(index_dir, rate_limit=3))) as c:
        codes = [
            c.post("/v1/search", json={"query": "养老"}, headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(5)
        ]
    assert codes == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(index_dir):
    away_from_a_window_edge()
    settings = make_settings(index_dir, rate_limit=2, trusted_proxies=["10.0.0.0/8"])
    with TestClient(create_app(settings), client=("10.0.0.2", 5555)) as c:

        def search(xff):
            return c.post("/v1/search", json={"query": "养老"}, headers={"X-Forwarded-For": xff}).status_code

        # the client varies what it writes on the left; the proxy's appended address decides
        assert [search(f"{i}.{i}.{i}.{i}, 198.51.100.1") for i in range(1, 4)] == [200, 200, 429]
        assert search("198.51.100.2") == 200  # another client behind the same proxy


def test_limiter_memory_is_reclaimed():
    """Counts of clients that went quiet are dropped, so many distinct clients do not grow memory."""
    limits = Limits("memory://", per_minute=5)
    from limits import RateLimitItemPerSecond

    limits.requests = RateLimitItemPerSecond(5, 1, namespace="QA-REQ")  # a one-second window for the test
    for i in range(2000):
        limits.check_request(f"198.51.{i // 256}.{i % 256}")
    assert len(limits.storage.storage) >= 2000
    time.sleep(2.2)  # counters live for two windows
    limits.check_request("203.0.113.1")  # any request lets the store drop what expired
    time.sleep(0.3)
    assert len(limits.storage.storage) <= 2 and len(limits.storage.expirations) <= 2


def test_admin_key_attempts_are_limited(index_dir):
    settings = make_settings(index_dir, admin_max_failures=3)
    app = create_app(settings)
    with TestClient(app, client=("203.0.113.5", 1)) as guesser, TestClient(app, client=("203.0.113.6", 1)) as other:
        codes = [guesser.delete("/v1/admin/documents/x", headers={"X-API-Key": f"guess{i}"}).status_code for i in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        r = guesser.delete("/v1/admin/documents/x", headers={"X-API-Key": "s3cret"})
        assert r.status_code == 429 and r.json()["error"]["field"] == "X-API-Key" and int(r.headers["retry-after"]) > 0
        # every admin route shares the count, whichever module defines it
        assert guesser.get("/v1/admin/feedback", headers={"X-API-Key": "s3cret"}).status_code == 429
        # someone else is not locked out by the guesser
        assert other.delete("/v1/admin/documents/x", headers={"X-API-Key": "wrong"}).status_code == 401
        assert other.delete("/v1/admin/documents/no-such-doc", headers={"X-API-Key": "s3cret"}).status_code in (404, 409)


# --- Redis: one limit across workers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    import shutil
    import socket
    import subprocess

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs Debian's redis-server as root)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_workers_sharing_redis_share_the_rate_limit(index_dir, redis_url):
    away_from_a_window_edge()
    settings = make_settings(index_dir, rate_limit=4, rate_limit_storage=redis_url)
    with TestClient(create_app(settings)) as worker1, TestClient(create_app(settings)) as worker2:
        codes = [(worker1 if i % 2 else worker2).post("/v1/search", json={"query": "养老"}).status_code for i in range(6)]
        assert codes == [200, 200, 200, 200, 429, 429]
        assert int(worker1.post("/v1/search", json={"query": "养老"}).headers["retry-after"]) >= 1


def test_two_workers_sharing_redis_share_the_admin_attempt_limit(index_dir, redis_url):
    settings = make_settings(index_dir, admin_max_failures=2, rate_limit_storage=redis_url)
    app1, app2 = create_app(settings), create_app(settings)
    with TestClient(app1, client=("203.0.113.9", 1)) as w1, TestClient(app2, client=("203.0.113.9", 2)) as w2:
        assert w1.post("/v1/admin/reindex", headers={"X-API-Key": "a"}).status_code == 401
        assert w2.post("/v1/admin/reindex", headers={"X-API-Key": "b"}).status_code == 401
        assert w1.post("/v1/admin/reindex", headers={"X-API-Key": "c"}).status_code == 429
        assert w2.post("/v1/admin/reindex", headers={"X-API-Key": "s3cret"}).status_code == 429


def test_an_unreachable_redis_falls_back_to_per_process_limits(index_dir, caplog):
    import socket

    away_from_a_window_edge()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings(index_dir, rate_limit=2, rate_limit_storage=f"redis://127.0.0.1:{port}/0")
    caplog.set_level(logging.WARNING, logger="policyqa.limits")
    with TestClient(create_app(settings)) as c:
        codes = [c.post("/v1/search", json={"query": "养老"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert any("rate_limit_store_unavailable" in json.dumps(r.msg) for r in caplog.records)


def test_a_bad_storage_url_is_refused():
    with pytest.raises(ValidationError, match="redis://"):
        Settings(rate_limit_storage="mysql://x")


# --- size bounds (middleware; the server's own bounds are in test_server_bounds.py) -------------------


def test_long_urls_and_large_headers_are_refused(index_dir):
    with TestClient(create_app(make_settings(index_dir, max_url_bytes=1024, max_header_bytes=2048))) as c:
        r = c.get("/v1/agencies/" + "x" * 2000)
        assert r.status_code == 414 and r.json()["error"]["field"] == "url"
        r = c.get("/healthz", headers={"X-Padding": "y" * 3000})
        assert r.status_code == 431 and r.json()["error"]["field"] == "headers"
        assert c.get("/healthz", headers={"X-Padding": "y" * 500}).status_code == 200


# --- headers, HEAD, dates -------------------------------------------------------------------------


def test_security_headers(index_dir):
    settings = make_settings(index_dir, frame_ancestors=["'self'", "https://gov.example"])
    with TestClient(create_app(settings)) as c:
        for path in ("/", "/widget-demo", "/widget-demo-en", "/docs", "/redoc", "/clauses/hfbf2025-5:2.3.6"):
            r = c.get(path)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
            csp = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"].split("; ")}
            assert csp["default-src"] == ["'self'"]
            # ReDoc writes its styles at run time (styled-components): inline styles there, never inline scripts
            assert csp["style-src"] == (["'self'", "'unsafe-inline'"] if path == "/redoc" else ["'self'"])
            assert csp["script-src"] == ["'self'"]
            assert csp["frame-ancestors"] == ["'self'", "https://gov.example"]
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "same-origin"
        # JSON and scripts: nosniff, no page policy
        r = c.get("/v1/documents")
        assert r.headers["x-content-type-options"] == "nosniff" and "content-security-policy" not in r.headers
        # the widget script stays loadable from any site: a script type, and no cross-origin resource policy
        r = c.get("/widget.js", headers={"Origin": "https://city.example"})
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["x-content-type-options"] == "nosniff" and "cross-origin-resource-policy" not in r.headers


def test_frame_ancestors_default_is_self(client):
    assert "frame-ancestors 'self'" in client.get("/").headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/v1/documents", "/v1/agencies", "/widget.js", "/docs", "/openapi.json"])
def test_head_on_every_get_route(client, path):
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == 200 == got.status_code
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_head_on_a_post_route_is_not_allowed(client):
    assert client.head("/v1/search").status_code == 405


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("/v1/ask", {"query": "养老", "as_of": 0}, "as_of"),
        ("/v1/ask", {"query": "养老", "as_of": 1700000000}, "as_of"),
        ("/v1/ask", {"query": "养老", "as_of": "1900-01-01"}, "as_of"),
        ("/v1/ask", {"query": "养老", "as_of": "2999-12-31"}, "as_of"),
        ("/v1/ask", {"query": "养老", "as_of": "2024-02-30"}, "as_of"),
        ("/v1/search", {"query": "养老", "filters": {"in_force_on": 0}}, "filters.in_force_on"),
        ("/v1/search", {"query": "养老", "filters": {"in_force_on": "1800-01-01"}}, "filters.in_force_on"),
    ],
)
def test_dates_out_of_range_are_refused_naming_the_field(client, path, body, field):
    r = client.post(path, json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text


def test_dates_in_range_are_accepted(client):
    assert client.post("/v1/ask", json={"query": "养老", "as_of": "1999-01-01"}).status_code == 200
    assert client.post("/v1/search", json={"query": "养老", "filters": {"in_force_on": "2030-06-30"}}).status_code == 200


# --- salted query hashes ------------------------------------------------------------------------------


def logged_hash(app, caplog, question: str) -> str:
    caplog.clear()
    with TestClient(app) as c:
        c.post("/v1/search", json={"query": question})
    entries = [r.msg for r in caplog.records if r.name == "policyqa.access" and isinstance(r.msg, dict) and r.msg["path"] == "/v1/search"]
    assert entries and "query" not in entries[-1]
    return entries[-1]["query_hash"]


def test_query_hashes_are_salted(index_dir, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="policyqa.access")
    question = "我的电话是13800138000，能申请算力券吗"
    a = logged_hash(create_app(make_settings(index_dir, log_salt="one secret")), caplog, question)
    b = logged_hash(create_app(make_settings(index_dir, log_salt="another secret")), caplog, question)
    plain = hashlib.sha256(question.encode()).hexdigest()
    assert a != b and not plain.startswith(a) and not plain.startswith(b)
    # no salt set: one is generated once in the data folder, so hashes stay comparable across restarts
    first = logged_hash(create_app(make_settings(index_dir, data_dir=tmp_path)), caplog, question)
    second = logged_hash(create_app(make_settings(index_dir, data_dir=tmp_path)), caplog, question)
    assert first == second and first not in (a, b) and not plain.startswith(first)
    salt_file = tmp_path / "log-salt.json"
    assert salt_file.stat().st_mode & 0o077 == 0  # readable by the service's user only
    # older than the retention: replaced, so old hashes no longer link to new requests
    stored = json.loads(salt_file.read_text())
    salt_file.write_text(json.dumps({**stored, "created": time.time() - 31 * 86400}))
    third = logged_hash(create_app(make_settings(index_dir, data_dir=tmp_path, log_retention_days=30)), caplog, question)
    assert third != first
