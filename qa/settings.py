"""All configuration in one place, read from the environment (prefix ``QA_``) or a ``.env`` file.

Only the CLI and the API read settings; library code takes explicit arguments.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from policyqa.corpus import default_corpus_dir


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    corpus_dir: Path = Field(default_factory=default_corpus_dir, description="folder of *.txt documents + metadata.toml")
    index_dir: Path = Field(Path("var/index"), description="where the persisted index lives")
    model: str = Field(
        "intfloat/multilingual-e5-small",
        description="sentence-transformers model: hub name or local path",
    )
    model_download: bool = Field(False, description="allow fetching the model from its hub (off: local files/cache only)")
    translate_english: bool = Field(
        True, description="search English questions by their CC-CEDICT translation in the keyword legs"
    )
    mode: str = Field("auto", description="auto | hybrid | lexical | dense")
    tokenizer: str = Field("jieba", description="keyword-leg tokenizer: jieba | bigram")
    faiss_index: str = Field("flat", description="flat (exact) | hnsw | ivf")
    passage_max_chars: int = Field(400, ge=50, le=2000)
    top_k: int = Field(10, ge=1, le=50)

    # --- the service ---
    host: str = Field("127.0.0.1", description="address qa serve binds to")
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: list[str] = Field(["*"], description="origins allowed to call the API from a browser (no credentials)")
    rate_limit: int = Field(60, ge=0, description="requests per minute per client; 0 disables")
    trust_proxy: bool = Field(False, description="take the client address from X-Forwarded-For (only behind your own proxy)")
    admin_api_key: str | None = Field(None, description="X-API-Key for /v1/admin/*; unset disables admin endpoints")
    max_body_bytes: int = Field(16_384, ge=1024, description="larger request bodies are refused with 413")
    log_queries: bool = Field(False, description="log raw query text (off: only a hash and the length)")
