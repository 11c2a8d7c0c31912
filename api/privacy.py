"""Query hashes for logs: HMAC-SHA256 under a per-deployment secret, so a logged hash cannot be tested
against guessed questions (a phone number, a name) by anyone who reads the logs but not the secret.

The secret is `QA_LOG_SALT` when set. Otherwise one is generated and kept in the data folder
(`log-salt.json`, mode 0600), so hashes stay comparable across restarts and between the workers that
share the folder; it is replaced once it is older than `QA_LOG_RETENTION_DAYS` (checked at start and then
hourly), after which hashes in older logs can no longer be linked to new requests or tested at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path

log = logging.getLogger("policyqa.privacy")

SALT_FILE = "log-salt.json"
RECHECK_SECONDS = 3600


class QueryHasher:
    def __init__(self, secret: str | None, data_dir: Path, retention_days: int = 30) -> None:
        self._fixed = secret.encode() if secret else None
        self.path = Path(data_dir) / SALT_FILE
        self.retention = retention_days * 86400
        self._key = self._fixed
        self._checked = 0.0
        self._lock = threading.Lock()
        if self._fixed is None:
            self._refresh()

    def __call__(self, text: str) -> str:
        if self._fixed is None and time.monotonic() - self._checked > RECHECK_SECONDS:
            self._refresh()
        return hmac.new(self._key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]

    def _refresh(self) -> None:
        with self._lock:
            self._checked = time.monotonic()
            try:
                self._key = self._load_or_create()
            except OSError as exc:
                if self._key is None:
                    log.warning({"event": "log_salt_not_stored", "path": str(self.path), "error": str(exc),
                                 "detail": "query hashes use a salt of this process only"})
                    self._key = secrets.token_bytes(32)

    def _load_or_create(self) -> bytes:
        try:
            stored = json.loads(self.path.read_text())
            if time.time() - float(stored["created"]) < self.retention:
                return bytes.fromhex(stored["salt"])
            replace = True  # too old: its hashes must stop linking requests
        except FileNotFoundError:
            replace = False
        except (ValueError, KeyError, TypeError):
            replace = True  # unreadable: a new one
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{SALT_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"salt": secrets.token_hex(32), "created": time.time()}, f)
            f.flush()
            os.fsync(f.fileno())
        try:
            if replace:
                os.replace(tmp, self.path)
            else:
                try:  # two workers starting together: the first file wins, both read it
                    os.link(tmp, self.path)
                except FileExistsError:
                    pass
        finally:
            tmp.unlink(missing_ok=True)
        return bytes.fromhex(json.loads(self.path.read_text())["salt"])
