"""Tile data revisions: a process's own commit counts at once, before its notification arrives."""

from __future__ import annotations

from sqlalchemy import Engine, text

from gridmap.tiles.revisions import Revisions


def write_a_station_revision(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE data_revision SET revision = revision + 1 WHERE table_name = 'station'")
        )


def test_a_commit_of_this_process_makes_the_revisions_read_again(engine: Engine) -> None:
    revisions = Revisions(None)  # a listener whose notification has not come yet
    revisions._listening.set()
    before = revisions.of(engine, ["station"])
    assert revisions.known(["station"]) == before  # cached: no query
    stop = revisions.follow_commits(engine)
    try:
        write_a_station_revision(engine)
        assert revisions.known(["station"]) is None  # not trusted any more
        assert revisions.of(engine, ["station"]) == (before[0] + 1,)
    finally:
        stop()


def test_without_following_commits_the_old_revision_is_kept_until_notified(
    engine: Engine,
) -> None:
    revisions = Revisions(None)
    revisions._listening.set()
    before = revisions.of(engine, ["station"])
    write_a_station_revision(engine)
    assert revisions.of(engine, ["station"]) == before  # what the hook is there for
    with engine.connect() as connection:  # a read that does not commit changes nothing
        connection.execute(text("SELECT 1"))
    assert revisions.known(["station"]) == before
