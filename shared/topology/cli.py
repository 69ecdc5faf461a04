"""``sanlian-stack``: run the full topology on this machine, or write its Compose file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from topology import compose
from topology.balancer import Pool, haproxy_config
from topology.status import print_whole
from topology.status import rows as status_rows
from topology.status import table as status_table
from topology.supervisor import Stack, alive, down, read_state
from topology.table import (
    DEFAULT_PORT_BASE,
    Addresses,
    Process,
    by_name,
    enabled,
    instances_of,
    scaled,
    settings_of,
)

app = typer.Typer(
    help="The full Sanlian topology on one machine (no Docker), and its docker-compose.yml.",
    no_args_is_help=True,
)
out = Console(stderr=True, soft_wrap=True)  # whole lines in log files

StateDir = Annotated[
    Path,
    typer.Option(
        envvar="SANLIAN_STATE_DIR",
        help="local state; the stack's pids and logs go to stack/ below it",
    ),
]
PortBase = Annotated[
    int,
    typer.Option(
        envvar="SANLIAN_STACK_PORT_BASE",
        help="web listens here, roster on +1, contacts +2, feedback +3, reports +4",
    ),
]


def _infrastructure() -> tuple[str, str]:
    """PostgreSQL and Kafka: from the environment, else started by deploy/local/up.sh."""
    dsn, bootstrap = os.environ.get("SANLIAN_PG_DSN"), os.environ.get("SANLIAN_KAFKA_BOOTSTRAP")
    if dsn and bootstrap:
        return dsn, bootstrap
    script = Path("deploy/local/up.sh")
    if not script.is_file():
        out.print(
            "[red]error:[/] run from the repository root, or set SANLIAN_PG_DSN and "
            "SANLIAN_KAFKA_BOOTSTRAP"
        )
        raise typer.Exit(2)
    out.print("starting PostgreSQL and Kafka (deploy/local/up.sh)")
    result = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        out.print(result.stderr[-3000:])
        out.print("[red]error:[/] deploy/local/up.sh failed")
        raise typer.Exit(1)
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return dsn or found["SANLIAN_PG_DSN"], bootstrap or found["SANLIAN_KAFKA_BOOTSTRAP"]


@app.command()
def up(
    state_dir: StateDir = Path(".local"),
    port_base: PortBase = DEFAULT_PORT_BASE,
    ready_timeout: Annotated[float, typer.Option(help="seconds to wait for /ready")] = 180.0,
    instances: Annotated[
        int,
        typer.Option(
            envvar="SANLIAN_STACK_INSTANCES",
            min=1,
            max=9,
            help="instances of each HTTP process; more than 1: behind HAProxy on the usual ports",
        ),
    ] = 1,
) -> None:
    """Start PostgreSQL, Kafka and every process of the table; stop them on Ctrl-C/SIGTERM."""
    folder = state_dir / "stack"
    folder.mkdir(parents=True, exist_ok=True)
    previous = read_state(folder)
    if previous is not None and alive(int(previous["supervisor"])):
        out.print(
            f"[red]error:[/] a stack already runs (pid {previous['supervisor']}); "
            "`sanlian-stack down` stops it"
        )
        raise typer.Exit(1)
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    dsn, bootstrap = _infrastructure()
    addresses = Addresses(
        dsn, bootstrap, host="127.0.0.1", port_base=port_base, url_host="127.0.0.1"
    )
    processes = enabled()
    if instances > 1:
        processes = scaled(processes, instances, _balancer(processes, instances, addresses, folder))
    stack = Stack(processes, addresses, folder, say=out.print)
    stack.start()
    table = Table("process", "pid", "address", "log", title="Sanlian stack")
    for name, running in stack.running.items():
        process = running.process
        where = f"http://127.0.0.1:{addresses.port(process)}" if process.http else "-"
        if process.kind == "balancer":
            where = "the usual ports"
        table.add_row(name, str(running.popen.pid), where, str(running.log))
    print_whole(out, table)
    out.print(f"PostgreSQL {dsn.split('@')[-1]}, Kafka {bootstrap}")
    try:
        not_ready = stack.wait_ready(ready_timeout)
        if stop_requested:
            pass
        elif not_ready:
            out.print(
                f"[yellow]not ready after {ready_timeout:.0f} s:[/] {', '.join(not_ready)}"
                " (see their logs); still supervising"
            )
        else:
            out.print("[green]all services ready[/]; Ctrl-C or `make stack-down` stops them")
        stack.run(lambda: stop_requested)
    finally:
        out.print("stopping the stack")
        codes = stack.stop()
        out.print("stopped: " + ", ".join(f"{n} ({_exit(c)})" for n, c in codes.items()))


def _balancer(
    processes: list[Process], instances: int, addresses: Addresses, folder: Path
) -> Process:
    """HAProxy in front of the instances :func:`scaled` makes, its config in ``folder``."""
    result = subprocess.run(
        ["deploy/local/haproxy.sh", "ensure"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        out.print(result.stderr[-3000:])
        out.print("[red]error:[/] deploy/local/haproxy.sh ensure failed (run from the repository)")
        raise typer.Exit(1)
    program = result.stdout.strip().splitlines()[-1]
    scaled_out = scaled(processes, instances, Process("balancer", "balancer", ()))
    pools = [
        Pool(
            process.name,
            (addresses.host, addresses.port(process)),
            tuple(
                (addresses.url_host or "127.0.0.1", addresses.port(copy))
                for copy in instances_of(process.name, scaled_out)
            ),
        )
        for process in processes
        if process.http
    ]
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_config(pools), "utf-8")
    # An absolute path: `sanlian-stack down` knows the HAProxy as its own by it.
    return Process("balancer", "balancer", ("-db", "-f", str(config.resolve())), program=program)


def _exit(code: int | None) -> str:
    # uvicorn re-raises the SIGTERM it shut down gracefully on, so -15 is a clean stop too.
    if code is None:
        return "killed"
    return signal.Signals(-code).name if code < 0 else f"exit {code}"


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="the admin's username")] = "admin",
    password_stdin: Annotated[
        bool, typer.Option(help="read the password from standard input instead of asking")
    ] = False,
    port_base: PortBase = DEFAULT_PORT_BASE,
) -> None:
    """Add a federation admin to the full topology's accounts: ``sanlian-access
    create-admin`` with the settings ``make stack`` gives the roster (PostgreSQL, whatever
    SANLIAN_STORE_BACKEND says), so the admin signs in on the stack."""
    dsn, bootstrap = _infrastructure()
    addresses = Addresses(
        dsn, bootstrap, host="127.0.0.1", port_base=port_base, url_host="127.0.0.1"
    )
    # The roster's own environment: its accounts are where the roster service reads them.
    env = {**os.environ, **settings_of(by_name("roster"), addresses)}
    argv = [sys.executable, "-m", "access", "create-admin", "--username", username]
    if password_stdin:
        argv.append("--password-stdin")
    # The terminal and standard input pass through, for the password prompt.
    raise typer.Exit(subprocess.run(argv, env=env, check=False).returncode)


@app.command("down")
def stop(state_dir: StateDir = Path(".local")) -> None:
    """Stop the stack started from ``state_dir`` (PostgreSQL and Kafka keep running)."""
    left = down(state_dir / "stack")
    if left:
        out.print(f"[red]killed what did not stop:[/] {left}")
        raise typer.Exit(1)
    out.print("the stack is stopped")


@app.command()
def status(state_dir: StateDir = Path(".local"), port_base: PortBase = DEFAULT_PORT_BASE) -> None:
    """Each process: port, pid, running, ready; the balancer's front for each service (with
    INSTANCES=N) and whether each relay is the active one. Exit 3 when the stack does not run."""
    folder = state_dir / "stack"
    state = read_state(folder)
    if state is None:
        out.print("the stack does not run")
        raise typer.Exit(3)
    supervisor = int(state["supervisor"])
    found = status_rows(state, folder, port_base=port_base)
    print_whole(Console(), status_table(found, supervisor, alive(supervisor)))


@app.command("compose")
def compose_file(
    write: Annotated[bool, typer.Option(help="write docker-compose.yml")] = False,
    check: Annotated[bool, typer.Option(help="exit 1 if docker-compose.yml differs")] = False,
    path: Annotated[
        Path | None,
        typer.Option(help="the Compose file (docker-compose.yml, or .cluster.yml)"),
    ] = None,
    cluster: Annotated[
        bool, typer.Option(help="the three-broker file, two instances behind HAProxy")
    ] = False,
) -> None:
    """Print (or write, or check) docker-compose.yml as the process table gives it."""
    path = path or Path(compose.CLUSTER_FILE if cluster else "docker-compose.yml")
    files = {path: compose.render(cluster)}
    if cluster:
        files[Path(compose.BALANCER_CONFIG)] = compose.balancer_config()
    text = files[path]
    flag = " --cluster" if cluster else ""
    if check:
        for file, expected in files.items():
            if not file.is_file() or file.read_text("utf-8") != expected:
                out.print(
                    f"{file} differs from the process table: sanlian-stack compose{flag} --write"
                )
                raise typer.Exit(1)
            out.print(f"{file} matches the process table")
    elif write:
        for file, expected in files.items():
            file.write_text(expected, "utf-8")
            out.print(f"wrote {file}")
    else:
        typer.echo(text, nl=False)
