"""Data revisions bumped at commit, in one order: no deadlock between concurrent writers.

Migration 0005 bumped a table's row of ``data_revision`` in a statement-level trigger, at the
statement: a transaction then held that row's lock until it committed, and two transactions
that wrote the same tables in different orders deadlocked (a job deleting a street's grids,
whose assignments cascade, against a planner's edit inserting assignments, then updating
grids: the job failed, 3 jobs in 31 on the 1M city with 8 planners editing). Every writer
also waited for the longest one to commit.

Now the statement trigger only notes the table in a transaction-local setting and, on the
transaction's first write, queues one deferred constraint trigger (a row in
``revision_flush``); at commit that trigger locks the noted rows in the order of their names,
bumps them and notifies ``gridmap_revision``. Rows are locked for the commit alone, always in
the same order, and the revisions still change exactly when the data does.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE revision_flush (txid bigint PRIMARY KEY)")
    op.execute(
        "ALTER TABLE revision_flush RENAME CONSTRAINT revision_flush_pkey TO pk_revision_flush"
    )
    op.execute("""
        CREATE OR REPLACE FUNCTION gridmap_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            touched text := coalesce(current_setting('gridmap.touched', true), '');
        BEGIN
            IF position(',' || TG_TABLE_NAME || ',' IN touched) = 0 THEN
                PERFORM set_config('gridmap.touched',
                                   coalesce(nullif(touched, ''), ',') || TG_TABLE_NAME || ',',
                                   true);
            END IF;
            IF touched = '' THEN  -- the transaction's first write: flush once, at commit
                INSERT INTO revision_flush VALUES (txid_current()) ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE FUNCTION gridmap_flush_revisions() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            touched text := coalesce(current_setting('gridmap.touched', true), '');
            name text;
        BEGIN
            PERFORM 1 FROM data_revision
            WHERE position(',' || table_name || ',' IN touched) > 0
            ORDER BY table_name FOR UPDATE;  -- one order for every transaction
            FOR name IN
                UPDATE data_revision SET revision = revision + 1, changed_at = now()
                WHERE position(',' || table_name || ',' IN touched) > 0
                RETURNING table_name
            LOOP
                PERFORM pg_notify('gridmap_revision', name);  -- delivered on commit
            END LOOP;
            PERFORM set_config('gridmap.touched', '', true);
            DELETE FROM revision_flush WHERE txid = NEW.txid;
            RETURN NULL;
        END $$
    """)
    op.execute(
        "CREATE CONSTRAINT TRIGGER tr_revision_flush AFTER INSERT ON revision_flush "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gridmap_flush_revisions()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER tr_revision_flush ON revision_flush")
    op.execute("DROP FUNCTION gridmap_flush_revisions()")
    op.execute("DROP TABLE revision_flush")
    op.execute("""
        CREATE OR REPLACE FUNCTION gridmap_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE data_revision SET revision = revision + 1, changed_at = now()
            WHERE table_name = TG_TABLE_NAME;
            PERFORM pg_notify('gridmap_revision', TG_TABLE_NAME);  -- delivered on commit
            RETURN NULL;
        END $$
    """)
