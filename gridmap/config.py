"""Settings of the gridmap application, read from the environment.

Library functions never read these themselves: they take explicit arguments, and only the
command line and the API build a :class:`Settings` (through :func:`get_settings`) and pass
its values down.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PG_BINDIR = Path("/usr/lib/postgresql/15/bin")
"""Where Debian's ``postgresql-15`` package puts ``initdb``, ``pg_ctl`` and ``postgres``."""


class Settings(BaseSettings):
    """Where gridmap keeps its data and how it reaches its database.

    Every field is read from ``GRIDMAP_<FIELD>``; the database URL also from the conventional
    ``DATABASE_URL``.
    """

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "GRIDMAP_DATABASE_URL"),
        description="An external PostGIS; when unset, gridmap runs its own private cluster.",
    )
    state_dir: Path = Field(
        default=Path(".gridmap"),
        description="Folder of the embedded cluster (``<state_dir>/pg``) and other local state.",
    )
    pg_bindir: Path = Field(
        default=DEFAULT_PG_BINDIR, description="Folder of the PostgreSQL 15 server binaries."
    )
    pg_system_user: str = Field(
        default="postgres",
        description="Unprivileged user that runs the embedded server when gridmap runs as root.",
    )
    database_name: str = Field(default="gridmap", description="Database of the embedded cluster.")
    county_code: str = Field(
        default="990101",
        description="6-digit county code of a city without admin boundaries; 99 is no province, "
        "so the demo's codes cannot be mistaken for real ones.",
    )
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    public_url: str | None = Field(
        default=None,
        description="The address residents reach the service at (https://gridmap.example), "
        "for the links that duty cards' QR codes carry; default http://HOST:PORT.",
    )
    issuer: str = Field(
        default="",
        max_length=200,
        description="The issuing unit printed at the top of every report and on its pages "
        "(e.g. 某某区网格化服务管理中心); reports say it is not set when empty.",
    )
    chromium: Path = Field(
        default=Path("/usr/bin/chromium"),
        description="The headless browser that prints reports and cards to PDF.",
    )
    public_read: bool = Field(
        default=False,
        description="Serve read endpoints (features, tiles, styles) without a key, as a viewer "
        "of the whole city.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins other portals call the API from (JSON list; ["*"] for any).',
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest request body accepted, in bytes."
    )
    tile_cache_mb: int = Field(
        default=256, ge=0, description="Memory for cached tiles, in MB (0: no cache)."
    )
    tile_store_mb: int = Field(
        default=2048,
        ge=0,
        description="Room for built tiles in the database, shared by every process and kept "
        "across restarts, in MB (0: no store).",
    )
    tile_workers: int = Field(
        default_factory=lambda: 2 * (os.cpu_count() or 1),
        ge=1,
        le=256,
        description="Tiles built at once (default: twice the cores); more wait their turn.",
    )

    job_workers: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Jobs each API process runs at once in a worker of its own (0: none; "
        "`gridmap worker` processes run them).",
    )

    @field_validator("database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("state_dir")
    @classmethod
    def _absolute_state_dir(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @property
    def cluster_dir(self) -> Path:
        """Folder of the embedded PostgreSQL cluster."""
        return self.state_dir / "pg"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings read from the environment, once per process."""
    return Settings()
