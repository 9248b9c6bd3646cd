"""`python -m opsdesk_devstack run`: what `make run` starts."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from .infra import REPO, InfraError
from .natsconf import deploy_config
from .stack import Stack


def run(var_dir: Path) -> int:
    # The contract's duty rota: on site in office hours, the phone on-call at other times.
    stack = Stack(var_dir=var_dir, fixed_ports=True, nats_port=4222, db_port=27018, prefix_to=sys.stdout,
                  extra_env={"DISPATCH_DEMO_ROTA": "contract"})
    stop = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    # Both set explicitly: a shell starting us in the background leaves SIGINT ignored, and Python keeps it so.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print("opsdesk: starting NATS, the database and every service...", flush=True)
    try:
        stack.start()
    except InfraError as exc:
        print(f"opsdesk: could not start: {exc}", file=sys.stderr, flush=True)
        return 1
    assert stack.nats and stack.database
    secrets_list = "\n               ".join(f"{path}  {what}" for what, path in stack.secret_files().items())
    print(
        f"""
opsdesk is running (Ctrl-C stops everything)
  console      {stack.gateway}/            (sign in with a user an admin made: see README, "Two commands")
  gateway      {stack.gateway}            API docs {stack.gateway}/docs
  events       {stack.gateway}/asyncapi.json   JSON Schemas in docs/schemas/
  token        {stack.token_file()}   (send 'Authorization: Bearer <token>')
  services     dispatch :8001  sla-monitor :8002  assets :8003  reporting :8004  knowledge :8005  console :8006  (/healthz, /readyz;
               /metrics with the scrape token; everything else only with a token the gateway signs)
  nats         {stack.nats.url} (JetStream store {var_dir / 'nats'}; one user per service, no anonymous clients;
               read-only user 'observer', e.g. nats://observer:<password>@127.0.0.1:{stack.nats.port})
  database     127.0.0.1:{stack.database.url.rsplit(':', 1)[-1].rstrip('/')} ({stack.database.kind})
  credentials  {secrets_list}
  logs         infrastructure in {var_dir / 'logs'}; services below

try it:
  curl -s -X POST {stack.gateway}/api/v1/tickets -H "Authorization: Bearer $(cat {stack.token_file()})" \\
       -H 'Content-Type: application/json' \\
       -d '{{"title":"打印機卡紙","requester":{{"name":"王小明"}},"channel":"hotline","service_code":"RS-REPAIR"}}'
""",
        flush=True,
    )
    try:
        while not stop:
            for svc in list(stack.services.values()):
                if svc.process and svc.process.proc.poll() is not None:
                    print(f"opsdesk: service {svc.name} exited with code {svc.process.proc.returncode}; stopping everything", file=sys.stderr, flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("opsdesk: stopping...", flush=True)
        stack.stop()
    return 0


def nats_config(out: Path | None) -> int:
    """The nats-server config for compose and Kubernetes: users and permissions from bus_permissions, passwords
    from the NATS container's environment ($NATS_PASSWORD_<USER>)."""
    text = deploy_config()
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"wrote {out}", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="opsdesk_devstack")
    parser.add_argument("command", choices=["run", "nats-config"])
    parser.add_argument("--var", type=Path, default=REPO / "var")
    parser.add_argument("--out", type=Path, default=None, help="nats-config: file to write (default: standard output)")
    args = parser.parse_args()
    if args.command == "nats-config":
        return nats_config(args.out)
    return run(args.var.resolve())


if __name__ == "__main__":
    sys.exit(main())
