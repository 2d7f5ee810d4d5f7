"""Configuration from environment variables and an optional `.env` file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "insecure-development-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Components. Unset URLs mean: start the embedded servers under DATA_DIR.
    database_url: str | None = None
    redis_url: str | None = None
    redis_namespace: str = "gongzhi"
    data_dir: Path = Path("var")

    # Stored files (core/storage.py). Unset STORAGE_DIR means DATA_DIR/files.
    storage_backend: Literal["local"] = "local"
    storage_dir: Path | None = None

    # Web
    host: str = "127.0.0.1"
    port: int = 8000
    web_workers: int = 1
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    cors_origins: list[str] = Field(default_factory=list)
    cookie_secure: bool = False
    trusted_proxies: bool = False
    rate_limit_per_minute: int = 600

    # Authentication
    session_ttl_hours: int = 12
    api_token_ttl_days: int = 30
    password_min_length: int = 10
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_attempts_per_minute_per_ip: int = 30

    # Database pool
    db_pool_min: int = 1
    db_pool_max: int = 10

    # Workers
    worker_in_process: bool = False
    worker_concurrency: int = 4
    # How often a worker looks for jobs whose worker died (past their timeout) to retry them.
    worker_sweep_seconds: int = 10

    # Webhooks (core/webhooks.py). Receivers are organisations' own servers on the internet:
    # private, loopback and link-local targets are refused unless this is set (tests, intranets).
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 10.0

    # Documents: keys and timestamps (documents/pki.py, documents/tsa.py). DOCUMENTS_KEY encrypts
    # the platform CA's and TSA's private keys at rest (unset: derived from SECRET_KEY); TSA_URL
    # names an external RFC 3161 timestamp authority (unset: the platform's own).
    documents_key: SecretStr | None = None
    tsa_url: str | None = None
    documents_trusted_ca_file: Path | None = None  # PEM bundle of licensed CAs (PKCS#12 imports)
    signing_pin_max_failures: int = 5
    signing_pin_lockout_minutes: int = 15
    verify_per_minute_per_ip: int = 30
    # Days a campaign's ZIP stays downloadable once ready; then it expires, its file is deleted
    # and the bureau's page offers to prepare it again (documents/exports.py).
    documents_export_retention_days: int = Field(default=7, ge=1, le=365)

    # Logging
    log_level: str = "INFO"
    log_json: bool = False

    @property
    def is_dev_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEV_SECRET


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
