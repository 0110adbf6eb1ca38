"""`python -m databricks_emulator --host H --port P [--latency-ms N] [--seed FILE] [--token T]
[--workspace-id ID]`.

Prints one line, `Databricks emulator on http://H:P`, once it accepts connections
(`--port 0` picks a free port, and the line tells which).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn

from databricks_emulator.app import create_app
from databricks_emulator.emulator import checked_workspace_id
from databricks_emulator.errors import ApiError
from databricks_emulator.server import listening_socket


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m databricks_emulator",
        description="A local emulator of the Databricks REST subset sharepack uses.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to each call")
    parser.add_argument(
        "--seed",
        type=Path,
        help='JSON fixture {"tables": ["cat.schema.table", ...]}; default: the bundled one',
    )
    parser.add_argument("--token", help="require this bearer token on API calls")
    parser.add_argument(
        "--pipeline-step-ms",
        type=int,
        default=200,
        help="how long each pipeline update state lasts (default 200)",
    )
    parser.add_argument(
        "--workspace-id",
        help="the workspace id its answers carry (x-databricks-org-id); default: a random one",
    )
    args = parser.parse_args(argv)
    if args.seed is not None and not args.seed.is_file():
        parser.error(f"--seed: no such file: {args.seed}")
    try:
        checked_workspace_id(args.workspace_id)
    except ValueError as exc:
        parser.error(f"--workspace-id: {exc}")
    try:
        app = create_app(
            seed=args.seed,
            token=args.token,
            latency_ms=args.latency_ms,
            pipeline_step_ms=args.pipeline_step_ms,
            workspace_id=args.workspace_id,
        )
    except (ApiError, json.JSONDecodeError, KeyError) as exc:
        parser.error(f"--seed: {exc}")
    sock = listening_socket(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    print(f"Databricks emulator on http://{host}:{port}", flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
