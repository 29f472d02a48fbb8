"""Jobs kept in PostgreSQL: gridmap's job rows, procrastinate's queue, key notifications.

``job`` is what a client sees of a re-partition or a coverage run: who started it, for which
plan and from which revision, its progress and how it ended. The work itself is queued with
procrastinate (a maintained PostgreSQL-backed job queue), whose tables, functions and
triggers live in a schema of their own, ``procrastinate``, so that they never mix with
gridmap's and can be dropped whole. The schema applied is procrastinate's own
``schema.sql`` of the version pinned in pyproject.toml (3.10); a later version of
procrastinate comes with a migration here that applies its migration scripts.

At most one re-partition job is queued or running on a plan (a partial unique index), and
every change to ``api_key`` notifies ``gridmap_keys`` on commit, so that each API process
forgets its cached keys at once (a revoked key stops working within a second everywhere).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

QUEUE_SCHEMA = "procrastinate"


def upgrade() -> None:
    op.execute("""
        CREATE TABLE job (
            id serial PRIMARY KEY,
            kind varchar(16) NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'queued',
            owner text NOT NULL,
            owner_key_id integer REFERENCES api_key (id) ON DELETE SET NULL,
            scope_region_id integer REFERENCES region (id) ON DELETE SET NULL,
            plan_id integer REFERENCES plan (id) ON DELETE SET NULL,
            base_revision integer,
            parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
            step integer NOT NULL DEFAULT 0,
            total_steps integer NOT NULL,
            message text NOT NULL DEFAULT '',
            result jsonb,
            error text,
            queue_job_id bigint,
            cancel_requested boolean NOT NULL DEFAULT false,
            worker text,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz,
            CONSTRAINT ck_job_kind_allowed CHECK (kind IN ('partition', 'coverage')),
            CONSTRAINT ck_job_status_allowed
                CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'))
        )
    """)
    op.execute("ALTER TABLE job RENAME CONSTRAINT job_pkey TO pk_job")
    for column, table in (
        ("owner_key_id", "api_key"),
        ("scope_region_id", "region"),
        ("plan_id", "plan"),
    ):
        op.execute(
            f"ALTER TABLE job RENAME CONSTRAINT job_{column}_fkey TO fk_job_{column}_{table}"
        )
    op.execute(
        "CREATE UNIQUE INDEX uq_job_one_active_partition ON job (plan_id) "
        "WHERE kind = 'partition' AND status IN ('queued', 'running')"
    )
    op.execute("CREATE INDEX ix_job_status ON job (status)")
    op.execute("""
        CREATE FUNCTION gridmap_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('gridmap_keys', TG_OP);  -- delivered on commit
            RETURN NULL;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER tr_api_key_changed AFTER UPDATE OR DELETE OR TRUNCATE ON api_key "
        "FOR EACH STATEMENT EXECUTE FUNCTION gridmap_keys_changed()"
    )
    op.execute(f"CREATE SCHEMA {QUEUE_SCHEMA}")
    op.execute(f"SET LOCAL search_path TO {QUEUE_SCHEMA}")
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    op.execute("SET LOCAL search_path TO public")


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {QUEUE_SCHEMA} CASCADE")
    op.execute("DROP TRIGGER tr_api_key_changed ON api_key")
    op.execute("DROP FUNCTION gridmap_keys_changed()")
    op.execute("DROP TABLE job")
