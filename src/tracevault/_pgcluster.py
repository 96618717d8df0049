"""A throwaway PostgreSQL cluster (initdb + pg_ctl) for DuckLake catalogs in tests and benches."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ._server_process import free_port

__all__ = ["PostgresCluster"]


def _bin(name: str) -> str:
    """The path of a PostgreSQL program: Debian's newest versioned folder, else PATH."""
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    found = versions[-1] if versions else shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL program {name!r} not found: install the Debian "
                           "package 'postgresql' (scripts/test.sh does)")
    return found


class PostgresCluster:
    """A private PostgreSQL cluster on a free loopback port, in a temporary directory."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tv-pg-"))
        self.data = self.root / "data"
        self._as_user: list[str] = []
        self.user = "postgres"
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
            shutil.chown(self.root, "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        else:
            import getpass

            self.user = getpass.getuser()
        self._run(_bin("initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
                  "--no-sync", "-E", "UTF8")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c max_connections=200", "start")
        self._databases = 0

    def _run(self, *cmd: str) -> None:
        done = subprocess.run([*self._as_user, *cmd], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(cmd[0]).name} failed: {done.stderr.strip()}")

    def create_database(self) -> str:
        """Create a new empty database; return its name."""
        self._databases += 1
        name = f"lake{self._databases}"
        self._run(_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                  "-d", "postgres", "-q", "-c", f"CREATE DATABASE {name}")
        return name

    def lake_url(self, data_path: str | os.PathLike[str]) -> str:
        """A ``ducklake:postgres://`` store URL on a new database of this cluster."""
        name = self.create_database()
        return f"ducklake:postgres://{self.user}@127.0.0.1:{self.port}/{name}?data_path={data_path}"

    def stop(self) -> None:
        """Stop the cluster and remove its files."""
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except RuntimeError:
            time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)
