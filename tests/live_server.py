"""A real uvicorn server for tests that need a socket (browser, concurrency)."""


class LiveServer:
    """Run an ASGI app with uvicorn on a free loopback port in a background thread."""

    def __init__(self, app, **options) -> None:
        """`options`: uvicorn.Config keywords (e.g. `qa serve`'s, from api/server.uvicorn_options)."""
        import socket
        import threading

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        options = {"log_config": None, "access_log": False} | options
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, **options))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        import time

        import httpx

        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def connect(self):
        import socket

        return socket.create_connection(("127.0.0.1", self.port), timeout=10)
