"""Dead letters from a shell, through the gateway's admin API (an administrator's token):

    python -m opsdesk_devstack.dead_letters list [--subject ticket.created] [--consumer C] [--service S]
                                                 [--reason failed|invalid] [--since 2026-11-30T09:00+08:00]
                                                 [--not-replayed] [--all]
    python -m opsdesk_devstack.dead_letters show 412
    python -m opsdesk_devstack.dead_letters replay 412 [413 ...]      # idempotent: a second replay sends nothing

The gateway is OPSDESK_GATEWAY (default http://127.0.0.1:8000, `make run`), the token OPSDESK_TOKEN or the file
var/dev-token that `make run` writes. Exit status: 0 done, 1 refused or not found, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from .infra import REPO

PATH = "/api/v1/admin/dead-letters"


def _token(token_file: Path) -> str:
    if token := os.environ.get("OPSDESK_TOKEN"):
        return token
    if token_file.exists():
        return token_file.read_text().strip()
    raise SystemExit(f"no token: set OPSDESK_TOKEN or start the stack (make run writes {token_file})")


def _row(item: dict[str, Any]) -> str:
    replay = item.get("replay")
    state = f"replayed {replay['replayed_at']} by {replay['replayed_by']}" if replay else "not replayed"
    return (f"{item['id']:>8}  {item['failed_at'][:19]}  {item['subject']:<28} {item['consumer']:<34} {item['reason']:<7} "
            f"{item['deliveries']:>3}x  {state}\n          {item['error'][:140]}")


def run(argv: Sequence[str] | None = None, *, client: httpx.Client | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opsdesk_devstack.dead_letters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default=os.environ.get("OPSDESK_GATEWAY", "http://127.0.0.1:8000"))
    parser.add_argument("--token-file", type=Path, default=REPO / "var" / "dev-token")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="dead letters, oldest first")
    for flag in ("subject", "consumer", "service", "since"):
        listing.add_argument(f"--{flag}")
    listing.add_argument("--reason", choices=["failed", "invalid"])
    listing.add_argument("--not-replayed", action="store_true", help="only those not replayed yet")
    listing.add_argument("--all", action="store_true", help="follow the cursor to the end of the stream")
    listing.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one dead letter with its message")
    show.add_argument("id", type=int)
    replay = sub.add_parser("replay", help="hand dead letters back to their consumer (idempotent)")
    replay.add_argument("ids", type=int, nargs="+")
    args = parser.parse_args(argv)

    http = client or httpx.Client(base_url=args.gateway, timeout=15.0)
    http.headers["Authorization"] = f"Bearer {_token(args.token_file)}"
    if args.command == "list":
        params: dict[str, Any] = {k: v for k in ("subject", "consumer", "service", "reason", "since") if (v := getattr(args, k))}
        if args.not_replayed:
            params["replayed"] = "false"
        items: list[dict[str, Any]] = []
        while True:
            r = http.get(PATH, params=params)
            if r.status_code != 200:
                print(f"refused: {r.status_code} {r.text}", file=sys.stderr)
                return 1
            page = r.json()
            items += page["items"]
            if not (args.all and page["next_cursor"]):
                break
            params["cursor"] = page["next_cursor"]
        if args.json:
            print(json.dumps(items, ensure_ascii=False, indent=2))
        else:
            for item in items:
                print(_row(item))
            print(f"{len(items)} dead letter(s)" + ("" if args.all or not page["next_cursor"] else
                                                   f"; more after cursor {page['next_cursor']} (--all)"), file=sys.stderr)
        return 0
    if args.command == "show":
        r = http.get(f"{PATH}/{args.id}")
        if r.status_code != 200:
            print(f"{args.id}: {r.status_code} {r.text}", file=sys.stderr)
            return 1
        print(json.dumps(r.json(), ensure_ascii=False, indent=2))
        return 0
    status = 0
    for dead_letter_id in args.ids:
        r = http.post(f"{PATH}/{dead_letter_id}/replay")
        if r.status_code in (200, 202):
            body = r.json()
            said = "already replayed" if body.get("already_replayed") else "replayed"
            print(f"{dead_letter_id}: {said} to {body['subject']} ({body['replayed_at']}, by {body['replayed_by']})")
        else:
            print(f"{dead_letter_id}: {r.status_code} {r.text}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(run())
