"""The embedded default store: a private PostgreSQL 15 + PostGIS 3 cluster in a folder.

Without ``DATABASE_URL``, gridmap runs its own cluster from Debian's binaries
(``/usr/lib/postgresql/15/bin``) under ``.gridmap/pg``:

* ``data/`` is the data directory, made by ``initdb`` and run by ``pg_ctl``;
* the server listens on a unix socket in that folder (mode 0700, so only the owner connects)
  and on a free port of 127.0.0.1, where it asks for a password kept in ``cluster.json``
  (mode 0600, readable by the local user only);
* as root, which ``initdb`` refuses, the server runs as an unprivileged system user
  (``postgres``, made by Debian's package) that owns the folder.

Installing ``postgresql-15-postgis-3`` can upgrade ``postgresql-15`` under a running server,
which then fails to load its libraries; :meth:`LocalCluster.up` remembers a fingerprint of
the binaries it started and restarts a cluster whose binaries changed.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from hashlib import sha1
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from gridmap.errors import MissingBinaries, StoreError

DEBIAN_PACKAGES = ("postgresql-15", "postgresql-15-postgis-3")
SUPERUSER = "gridmap"
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; keep room for "/.s.PGSQL.65535"
_START_TIMEOUT_S = 60


@dataclass(frozen=True)
class ClusterState:
    """What ``cluster.json`` records of a cluster: how to reach it and what it runs."""

    port: int
    password: str
    database: str
    fingerprint: dict[str, list[int]]

    def to_json(self) -> str:
        """Serialise for ``cluster.json``."""
        return json.dumps(self.__dict__, indent=2, sort_keys=True)


@dataclass(frozen=True)
class ClusterStatus:
    """A cluster as seen now."""

    cluster_dir: Path
    initialised: bool
    running: bool
    pid: int | None
    port: int | None
    socket_dir: Path
    database: str


@dataclass(frozen=True)
class UpResult:
    """What :meth:`LocalCluster.up` did: ``action`` is started, restarted or running."""

    action: str
    status: ClusterStatus
    url: str


class LocalCluster:
    """A private PostgreSQL cluster in ``cluster_dir``, started and stopped with ``pg_ctl``.

    Parameters
    ----------
    cluster_dir
        Folder of the cluster; made when missing.
    bindir
        Folder of ``initdb``, ``pg_ctl`` and ``postgres``.
    system_user
        User that runs the server when the caller is root.
    database
        Database made in the cluster, with the ``postgis`` extension.
    fast
        Trade durability for speed (``fsync=off``): for throw-away test clusters.
    """

    def __init__(
        self,
        cluster_dir: Path,
        *,
        bindir: Path,
        system_user: str = "postgres",
        database: str = "gridmap",
        fast: bool = False,
    ) -> None:
        self.cluster_dir = Path(cluster_dir).absolute()
        self.bindir = Path(bindir)
        self.system_user = system_user
        self.database = database
        self.fast = fast

    # -- paths ----------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The PostgreSQL data directory."""
        return self.cluster_dir / "data"

    @property
    def log_file(self) -> Path:
        """The server's log."""
        return self.cluster_dir / "postgres.log"

    @property
    def state_file(self) -> Path:
        """Port, password and binary fingerprint of the cluster (mode 0600)."""
        return self.cluster_dir / "cluster.json"

    @property
    def socket_dir(self) -> Path:
        """Folder of the unix socket: the cluster folder, unless its path is too long."""
        if len(str(self.cluster_dir)) <= _SOCKET_PATH_MAX - len("/.s.PGSQL.65535"):
            return self.cluster_dir
        digest = sha1(str(self.cluster_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"gridmap-{digest}"

    # -- public operations ----------------------------------------------------------------
    def up(self) -> UpResult:
        """Make, start and prepare the cluster; harmless when it already runs.

        Returns
        -------
        UpResult
            ``action`` is ``"started"``, ``"restarted"`` (the binaries changed under the
            running server) or ``"running"`` (nothing to do).
        """
        self._check_binaries()
        if not self._initialised():
            self._initialise()
        state = self._read_state()
        fingerprint = self._fingerprint()
        if self._running():
            if state.fingerprint == fingerprint:
                action = "running"
            else:
                self._pg_ctl("stop", "-m", "fast")
                state = self._start(state, fingerprint)
                action = "restarted"
        else:
            state = self._start(state, fingerprint)
            action = "started"
        self._ensure_database(state)
        return UpResult(action=action, status=self.status(), url=self.url())

    def down(self) -> bool:
        """Stop the server; return whether it was running."""
        if not self._initialised() or not self._running():
            return False
        self._pg_ctl("stop", "-m", "fast")
        return True

    def status(self) -> ClusterStatus:
        """Describe the cluster without changing it."""
        initialised = self._initialised()
        running = initialised and self._running()
        port = self._read_state().port if initialised else None
        return ClusterStatus(
            cluster_dir=self.cluster_dir,
            initialised=initialised,
            running=running,
            pid=self._pid() if running else None,
            port=port,
            socket_dir=self.socket_dir,
            database=self.database,
        )

    def url(self, *, driver: str | None = "psycopg", database: str | None = None) -> str:
        """Return the connection URL over 127.0.0.1 with the password.

        Parameters
        ----------
        driver
            SQLAlchemy driver name, or None for a plain libpq URL (psql, GDAL, QGIS).
        database
            Another database of the cluster; the cluster's own by default.
        """
        if not self._initialised():
            raise StoreError(f"no embedded cluster in {self.cluster_dir}: run `gridmap db up`")
        state = self._read_state()
        url = URL.create(
            "postgresql" + (f"+{driver}" if driver else ""),
            username=SUPERUSER,
            password=state.password,
            host="127.0.0.1",
            port=state.port,
            database=database or state.database,
        )
        return url.render_as_string(hide_password=False)

    # -- steps ----------------------------------------------------------------------------
    def _check_binaries(self) -> None:
        missing = [n for n in ("initdb", "pg_ctl", "postgres") if not self._binary(n).is_file()]
        install = "apt-get install " + " ".join(DEBIAN_PACKAGES)
        if missing:
            raise MissingBinaries(
                f"PostgreSQL 15 server binaries not found in {self.bindir} "
                f"(missing: {', '.join(missing)}). Install Debian's packages: {install}"
            )
        if not (self._sharedir() / "extension" / "postgis.control").is_file():
            raise MissingBinaries(
                f"PostGIS 3 is not installed for the PostgreSQL in {self.bindir}. "
                f"Install Debian's packages: {install}"
            )

    def _initialise(self) -> None:
        owner = self._server_owner()
        self._make_private_dir(self.cluster_dir, owner)
        self._check_reachable(owner)
        password = secrets.token_urlsafe(24)
        pwfile = self.cluster_dir / ".initdb-password"
        self._write_private(pwfile, password + "\n", owner)
        try:
            self._run_as_server(
                self._binary("initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as handle:
            handle.write("\n# Written by gridmap: port, sockets and tuning.\n")
            handle.write("include_if_exists = 'gridmap.conf'\n")
        self._write_state(ClusterState(0, password, self.database, {}))

    def _start(self, state: ClusterState, fingerprint: dict[str, list[int]]) -> ClusterState:
        owner = self._server_owner()
        if self.socket_dir != self.cluster_dir:
            self._make_private_dir(self.socket_dir, owner)
        port = state.port if state.port and _port_free(state.port) else _free_port()
        self._write_private(self.data_dir / "gridmap.conf", self._server_conf(port), owner)
        try:
            self._pg_ctl(
                "start", "--wait", f"--timeout={_START_TIMEOUT_S}", "--log", str(self.log_file)
            )
        except StoreError as error:
            tail = self._log_tail()
            raise StoreError(f"{error}\n--- last lines of {self.log_file} ---\n{tail}") from None
        state = ClusterState(port, state.password, state.database, fingerprint)
        self._write_state(state)
        return state

    def _ensure_database(self, state: ClusterState) -> None:
        try:
            with psycopg.connect(
                self.url(driver=None, database="postgres"), autocommit=True
            ) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (state.database,)
                ).fetchone()
                if not exists:
                    conn.execute(
                        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(state.database))
                    )
            with psycopg.connect(self.url(driver=None), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as error:
            raise StoreError(
                f"the embedded cluster started but cannot be prepared: {error}"
            ) from error

    def _server_conf(self, port: int) -> str:
        lines = [
            "listen_addresses = '127.0.0.1'",
            f"port = {port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "unix_socket_permissions = 0700",
            "max_connections = 200",
            "shared_buffers = 256MB",
            "work_mem = 32MB",
            "maintenance_work_mem = 256MB",
            "timezone = 'UTC'",
        ]
        if self.fast:
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        return "\n".join(lines) + "\n"

    # -- facts ----------------------------------------------------------------------------
    def _initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file() and self.state_file.is_file()

    def _running(self) -> bool:
        result = self._run_as_server(
            self._binary("pg_ctl"), "status", "--pgdata", str(self.data_dir), check=False
        )
        return result.returncode == 0

    def _pid(self) -> int | None:
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        return int(first_line) if first_line.strip().isdigit() else None

    def _fingerprint(self) -> dict[str, list[int]]:
        """Identify the installed server and PostGIS builds by size and change time."""
        files = [self._binary("postgres"), *sorted(self._pkglibdir().glob("postgis-3*.so"))]
        fingerprint = {}
        for path in files:
            stat = path.stat()
            fingerprint[str(path)] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
        return fingerprint

    def _read_state(self) -> ClusterState:
        try:
            return ClusterState(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError) as error:
            raise StoreError(f"cannot read {self.state_file}: {error}") from error

    def _write_state(self, state: ClusterState) -> None:
        self._write_private(self.state_file, state.to_json(), owner=None)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- running the binaries -------------------------------------------------------------
    def _binary(self, name: str) -> Path:
        return self.bindir / name

    def _sharedir(self) -> Path:
        return self._pg_config("--sharedir", default=Path("/usr/share/postgresql/15"))

    def _pkglibdir(self) -> Path:
        return self._pg_config("--pkglibdir", default=self.bindir.parent / "lib")

    def _pg_config(self, flag: str, *, default: Path) -> Path:
        pg_config = self._binary("pg_config")
        if not pg_config.is_file():
            return default
        out = subprocess.run([pg_config, flag], capture_output=True, text=True, check=False)
        return Path(out.stdout.strip()) if out.returncode == 0 else default

    def _pg_ctl(self, *args: str) -> None:
        self._run_as_server(
            self._binary("pg_ctl"), *args, "--pgdata", str(self.data_dir), detach=True
        )

    def _server_owner(self) -> pwd.struct_passwd | None:
        """Return who runs the server: None for the caller, or the system user under root."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(self.system_user)
        except KeyError:
            raise StoreError(
                f"gridmap runs as root, which PostgreSQL refuses, and the unprivileged user "
                f"'{self.system_user}' that should run the server does not exist. Install "
                f"Debian's {DEBIAN_PACKAGES[0]} (it makes 'postgres') or set "
                f"GRIDMAP_PG_SYSTEM_USER."
            ) from None

    def _run_as_server(
        self, *args: str | Path, check: bool = True, detach: bool = False
    ) -> subprocess.CompletedProcess[str]:
        owner = self._server_owner()
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        if owner:
            env["HOME"] = owner.pw_dir
        result = subprocess.run(
            [str(a) for a in args],
            cwd=self.cluster_dir if self.cluster_dir.is_dir() else "/",
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            start_new_session=detach,  # the server outlives a Ctrl-C in the calling terminal
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            extra_groups=[] if owner else None,
        )
        if check and result.returncode != 0:
            output = (result.stderr or result.stdout).strip()
            raise StoreError(f"{Path(args[0]).name} failed (exit {result.returncode}): {output}")
        return result

    # -- files ----------------------------------------------------------------------------
    def _make_private_dir(self, path: Path, owner: pwd.struct_passwd | None) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if owner:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        path.chmod(0o700)

    def _write_private(self, path: Path, text: str, owner: pwd.struct_passwd | None) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if owner:
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def _check_reachable(self, owner: pwd.struct_passwd | None) -> None:
        if owner is None:
            return
        probe = self._run_as_server("test", "-w", self.cluster_dir, check=False)
        if probe.returncode != 0:
            raise StoreError(
                f"the server user '{owner.pw_name}' cannot reach {self.cluster_dir}: a parent "
                f"folder is closed to other users. Open it (chmod o+x) or set "
                f"GRIDMAP_STATE_DIR to a folder '{owner.pw_name}' can reach."
            )


def _port_free(port: int) -> bool:
    """Say whether a server could listen on ``port`` now.

    The probe sets SO_REUSEADDR, as PostgreSQL's own listening socket does: sockets of the
    server just stopped, still in TIME-WAIT or FIN-WAIT, do not make the port look taken
    (they did, and a restarted cluster moved to a new port under a running API).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
