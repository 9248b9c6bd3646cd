"""Adopt the tamper-evident trail once (issue 16): seal the history records written before sealing existed.

    python -m opsdesk_shared.audit_seal intake          # one service's database, with that service's environment
    python -m opsdesk_shared.audit_seal                 # every service in audit_store.TRAILS (one database server)

It reads MONGODB_URL and OPSDESK_AUDIT_KEY as the services do (the database is `opsdesk_<service>` unless
`--database` says otherwise); without OPSDESK_AUDIT_KEY it refuses, even in development. Only chains whose first record has no seal are sealed (from their start, as they stand
now); a chain sealed from its start is never touched, so a seal missing later on stays a finding. Run it once after
upgrading, before relying on `GET /api/v1/audit/verify`; until then old records read as "unsealed".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from .audit_store import TRAILS, adopt_collection
from .mongo import connect
from .settings import ServiceSettings


async def adopt(service: str, *, database: str | None = None) -> dict[str, int]:
    """Documents sealed per collection of one service."""
    settings = ServiceSettings(service_name=service)
    if not settings.audit_key:
        # Never the development key here: records sealed with it would fail under the deployment's key.
        raise SystemExit("OPSDESK_AUDIT_KEY is not set: the records would be sealed with a key the services do not hold")
    client = connect(settings.mongodb_url)
    try:
        db = client[database or settings.database]
        return {
            trail.collection: await adopt_collection(db[trail.collection], trail, key=settings.audit_key_bytes)
            for trail in TRAILS[service]
        }
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opsdesk_shared.audit_seal", description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", help=f"services to adopt, of {', '.join(TRAILS)} (default: all)")
    parser.add_argument("--database", help="database name, when not opsdesk_<service> (one service only)")
    args = parser.parse_args(argv)
    services: list[str] = list(args.services) or list(TRAILS)
    if unknown := [s for s in services if s not in TRAILS]:
        parser.error(f"no trail kept by {', '.join(unknown)}")
    if args.database and len(services) != 1:
        parser.error("--database names one service's database")
    for service in services:
        sealed = asyncio.run(adopt(service, database=args.database))
        for collection, n in sealed.items():
            print(f"{service}: {collection}: {n} documents sealed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
