"""`python -m databricks_emulator --host H --port P [--latency-ms N] [--seed FILE] [--token T]
[--workspace-id ID] [--state FILE] [--rate-limit [FAMILY=]N ...]`.

Prints one line, `Databricks emulator on http://H:P`, once it accepts connections
(`--port 0` picks a free port, and the line tells which). With `--state FILE` the
workspace is kept in FILE (written after every change) and served again, with its id and
port, by the next start; `--port` and `--workspace-id` then only serve a new file.
`--rate-limit unity-catalog/shares=15` limits a family to 15 requests per second (`--rate-limit
15`: every family not named); a reset of the emulator goes back to these limits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from databricks_emulator.emulator import checked_workspace_id
from databricks_emulator.errors import ApiError
from databricks_emulator.server import EmulatorServer
from databricks_emulator.state_file import StateFile, StateFileError

DEFAULT_PORT = 8001


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m databricks_emulator",
        description="A local emulator of the Databricks REST subset sharepack uses.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, help=f"0 picks a free port (default {DEFAULT_PORT}, or the state's)"
    )
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
    parser.add_argument(
        "--state",
        type=Path,
        help="keep the workspace in this JSON file and serve it again on the next start",
    )
    parser.add_argument(
        "--rate-limit",
        action="append",
        default=[],
        metavar="[FAMILY=]N",
        help="requests per second an API family (e.g. unity-catalog/shares) may make, over "
        "which calls are answered 429; N alone: every family not named (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        per_second, default_limit = _rate_limits(args.rate_limit)
    except ValueError as exc:
        parser.error(f"--rate-limit: {exc}")
    if args.seed is not None and not args.seed.is_file():
        parser.error(f"--seed: no such file: {args.seed}")
    try:
        checked_workspace_id(args.workspace_id)
    except ValueError as exc:
        parser.error(f"--workspace-id: {exc}")
    try:
        saved = StateFile(args.state).read() if args.state is not None else None
    except StateFileError as exc:
        parser.error(f"--state: {exc}")
    if saved is not None:
        _refuse_other(parser, "--port", args.port, saved.port, args.state)
        _refuse_other(parser, "--workspace-id", args.workspace_id, saved.workspace_id, args.state)
    port = saved.port if saved is not None else DEFAULT_PORT if args.port is None else args.port
    try:
        server = EmulatorServer(
            host=args.host,
            port=port,
            seed=args.seed,
            token=args.token,
            latency_ms=args.latency_ms,
            pipeline_step_ms=args.pipeline_step_ms,
            workspace_id=args.workspace_id,
            state_file=args.state,
            rate_limits=per_second,
            default_rate_limit=default_limit,
        )
    except (ApiError, json.JSONDecodeError, KeyError) as exc:
        parser.error(f"--seed: {exc}")
    except StateFileError as exc:
        parser.error(f"--state: {exc}")
    except OSError as exc:
        parser.error(f"--port: cannot listen on {args.host}:{port}: {exc.strerror}")
    print(f"Databricks emulator on {server.url}", flush=True)  # its socket accepts already
    with contextlib.suppress(KeyboardInterrupt):  # stopped on Ctrl-C, then raised again
        server.run()


def _rate_limits(options: list[str]) -> tuple[dict[str, int], int | None]:
    """`FAMILY=N` options as limits per family; a bare `N` as the default. `ValueError`
    names the option that is not one of those."""
    per_second: dict[str, int] = {}
    default: int | None = None
    for option in options:
        family, _, number = option.rpartition("=")
        if not number.isdigit() or int(number) < 1 or (family == "" and "=" in option):
            raise ValueError(f"'{option}' is not FAMILY=N or N, N a whole number of at least 1")
        if family:
            per_second[family] = int(number)
        else:
            default = int(number)
    return per_second, default


def _refuse_other(
    parser: argparse.ArgumentParser, option: str, given: object, saved: object, state: Path
) -> None:
    if given is not None and str(given) != str(saved):
        parser.error(
            f"{option} {given}: the workspace kept in {state} has {saved}; leave {option} out, "
            "or move the file away to start a new workspace"
        )


if __name__ == "__main__":
    main()
