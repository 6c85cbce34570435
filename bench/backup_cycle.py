"""Backup, verify and restore of a simulated 1,500-student school year on PostgreSQL.

Generates one school (5 parallel classes in grades 1-11, about 1,560 students)
for all four quarters, appends its events to the backup service's journal
record in a fresh PostgreSQL database, then times:

- backup: journal → members (events, chain, derived tables) → tar → zstd → AES-GCM → store;
- verify by reading (after every backup): decrypt, unpack, member checksums, every
  journal line parsed and the chain checked, count and head compared;
- verify by trial restore (once per retention cycle): the same, then a restore into a
  scratch SQLite database and re-derivation of every journal and table member;
- restore: into a second, empty PostgreSQL database (chain checked while loading).

It prints events/s and MB/s (MB of journal bodies, the events.jsonl member)
for each, plus yardsticks measured in the same run on the same bytes
(SHA-256, zstd level 6 and AES-256-GCM alone), and the peak memory.

    .venv/bin/python bench/backup_cycle.py                 # the 1,500-student year
    .venv/bin/python bench/backup_cycle.py --parallels 1 --terms 1   # a quick run
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import resource
import secrets
import tempfile
import time
from pathlib import Path

import psycopg
import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kozomol.simulator.run import SimulationSpec, parse_terms, school_events
from services.backup.adapters import journal_store
from services.backup.adapters.crypto import parse_key
from services.backup.handlers import (
    BackupContext,
    create_request,
    restore,
    verify,
    write_backup,
)
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.settings import SERVICES
from shared.storage import LocalFileStore

POSTGRES_URL = os.environ.get("KOZOMOL_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")


def database() -> str:
    name = f"kozomol_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def drop(name: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url_of(name: str) -> str:
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def progress(what: str, count: int) -> None:
    print(f"    … {what}: {count:,}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parallels", type=int, default=5)
    parser.add_argument("--terms", default="1-4")
    args = parser.parse_args()
    spec = SimulationSpec(seed=1, parallels=args.parallels, terms=parse_terms(args.terms))
    source_db, target_db = database(), database()
    scratch = Path(tempfile.mkdtemp(prefix="kozomol-bench-"))
    try:
        run(spec, source_db, target_db, scratch)
    finally:
        drop(source_db)
        drop(target_db)


def run(spec: SimulationSpec, source_db: str, target_db: str, scratch: Path) -> None:
    upgrade(url_of(source_db), "backup", SERVICES)
    engine = make_engine(url_of(source_db))
    print(f"simulating and journaling one school, parallels={spec.parallels}, "
          f"terms={spec.terms} …", flush=True)
    started, count, batch = time.perf_counter(), 0, []
    for envelope in school_events(spec):
        batch.append(Event.from_envelope(envelope))
        if len(batch) == 1000:
            with engine.begin() as connection:
                journal_store.append(connection, batch)
            count += len(batch)
            batch = []
            if count % 100_000 == 0:
                print(f"    … {count:,} events journaled "
                      f"({count / (time.perf_counter() - started):,.0f}/s)", flush=True)
    if batch:
        with engine.begin() as connection:
            journal_store.append(connection, batch)
        count += len(batch)
    journaled = time.perf_counter() - started
    print(f"journal: {count:,} events in {journaled:.1f} s "
          f"(simulate + append, {count / journaled:,.0f} events/s)")

    key = secrets.token_bytes(32)
    ctx = BackupContext(engine=engine, archives=LocalFileStore(scratch / "backups"),
                        files=LocalFileStore(scratch / "files"),
                        key=parse_key(base64.b64encode(key).decode()),
                        progress=progress, scratch=scratch)

    print("backup …", flush=True)
    t0 = time.perf_counter()
    outcome = write_backup(ctx, create_request(engine, "*", "manual", "bench", ctx.clock()),
                           "*", "manual")
    backup_s = time.perf_counter() - t0
    assert outcome.manifest is not None
    members = {m.name: m.size for m in outcome.manifest.members}
    raw_bytes = members["journal/events.jsonl"]
    uncompressed = sum(members.values())
    mb = raw_bytes / 1e6

    print("verify by reading (the usual check after a backup) …", flush=True)
    t0 = time.perf_counter()
    read = verify(ctx, outcome.key or "", trial_restore=False)
    read_s = time.perf_counter() - t0
    assert read.ok, read.problems
    read_peak = peak_mb()

    print("verify by trial restore (once per retention cycle) …", flush=True)
    t0 = time.perf_counter()
    checked = verify(ctx, outcome.key or "")
    verify_s = time.perf_counter() - t0
    assert checked.ok, checked.problems

    print("restore …", flush=True)
    upgrade(url_of(target_db), "backup", SERVICES)
    target = make_engine(url_of(target_db))
    t0 = time.perf_counter()
    restored = restore(ctx, outcome.key or "", target)
    restore_s = time.perf_counter() - t0
    assert restored.events == count

    # Yardsticks on the same bytes, this run, this machine.
    body = _events_bytes(engine)
    t0 = time.perf_counter()
    hashlib.sha256(body).hexdigest()
    sha_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    packed = zstandard.ZstdCompressor(level=6, threads=-1).compress(body)
    zstd_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    AESGCM(key).encrypt(b"\0" * 12, packed, None)
    aes_s = time.perf_counter() - t0

    print()
    print(f"school year: {count:,} events, journal bodies {mb:,.1f} MB, all members "
          f"{uncompressed / 1e6:,.1f} MB, archive {outcome.bytes / 1e6:,.1f} MB "
          f"({uncompressed / outcome.bytes:.1f}x smaller)")
    print(f"{'step':<24} {'seconds':>8} {'events/s':>10} {'MB/s':>8}")
    for name, seconds in (("backup", backup_s), ("verify (read)", read_s),
                          ("verify (trial restore)", verify_s), ("restore", restore_s)):
        print(f"{name:<24} {seconds:>8.1f} {count / seconds:>10,.0f} {mb / seconds:>8.1f}")
    print(f"backup + verify: {backup_s + read_s:.1f} s by reading, "
          f"{backup_s + verify_s:.1f} s with the trial restore "
          f"({(backup_s + verify_s) / (backup_s + read_s):.1f}x)")
    print(f"peak memory after backup and the reading check: {read_peak:,.0f} MB")
    print(f"yardsticks on the {len(body) / 1e6:,.1f} MB of bodies: SHA-256 "
          f"{len(body) / 1e6 / sha_s:,.0f} MB/s, zstd-6 {len(body) / 1e6 / zstd_s:,.0f} MB/s, "
          f"AES-256-GCM {len(packed) / 1e6 / aes_s:,.0f} MB/s")
    print(f"peak memory: {peak_mb():,.0f} MB")
    target.dispose()
    engine.dispose()


def _events_bytes(engine: object) -> bytes:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return b"\n".join(body for _, body, _, _ in journal_store.entries(connection))


if __name__ == "__main__":
    main()
