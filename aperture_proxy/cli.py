"""The ``aperture-proxy`` command."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from aperture_proxy import __version__
from aperture_proxy import config as config_mod
from aperture_proxy.agent_env import (
    CA_CERT,
    SHELLS,
    agent_environment,
    confdir_path,
    ensure_ca,
    format_exports,
    with_agent_env,
)

log = logging.getLogger("aperture_proxy")


class UsageError(Exception):
    """A mistake the user can fix; printed without a traceback."""


def _load(args: argparse.Namespace, *, need_gateway: bool = True) -> config_mod.Config:
    path = config_mod.resolve_config_path(getattr(args, "config", None))
    cfg = config_mod.load_config(
        path,
        gateway=getattr(args, "gateway", None),
        must_exist=bool(getattr(args, "config", None)),
    )
    if need_gateway and not cfg.base_url:
        raise UsageError(
            "no Aperture gateway configured: pass --gateway URL, set APERTURE_URL, "
            f"or run `aperture-proxy onboard` (it writes baseUrl to {path})"
        )
    return cfg


def _listen(args: argparse.Namespace, cfg: config_mod.Config) -> tuple[str, int]:
    value = getattr(args, "listen", None) or cfg.proxy.listen
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def _routing_summary(cfg: config_mod.Config) -> tuple[str, bool]:
    """The routing table for people, and whether the gateway's catalogue was read."""
    from aperture_proxy.gateway import DiscoveryError, discover_sync
    from aperture_proxy.providers import format_table, match_providers
    from aperture_proxy.upstreams import select_upstreams, upstreams_from_config

    assert cfg.base_url
    upstreams = select_upstreams(upstreams_from_config(cfg))
    try:
        catalogue = discover_sync(cfg.base_url, timeout=5.0)
    except DiscoveryError as exc:
        message = (
            f"gateway catalogue unavailable: {exc}\n"
            "Requests are still rerouted by path; the gateway routes them by model."
        )
        return message, False
    lines = [format_table(match_providers(catalogue, upstreams))]
    lines += [f"warning: {w}" for w in catalogue.warnings]
    return "\n".join(lines), True


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        # As mitmproxy's own listener does: old connections in TIME-WAIT do not
        # make a port busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {_hostport(host, port)}: {exc.strerror or exc}; "
                "is another proxy running? Pick another address with --listen"
            ) from None


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _confdir(args: argparse.Namespace) -> Path:
    confdir = confdir_path(args.confdir)
    try:
        ensure_ca(confdir)
    except OSError as exc:
        raise UsageError(
            f"--confdir {confdir}: cannot keep the proxy CA there "
            f"({exc.strerror or exc}); pass a writable directory"
        ) from None
    return confdir


def cmd_run(args: argparse.Namespace) -> int:
    from aperture_proxy.runner import ProxySetup, StartError, run_proxy

    cfg = _load(args)
    host, port = _listen(args, cfg)
    confdir = _confdir(args)
    _check_port_free(host, port)
    assert cfg.base_url
    setup = ProxySetup(
        listen_host=host,
        listen_port=port,
        confdir=str(confdir),
        gateway=cfg.base_url,
        config=str(Path(args.config).resolve()) if args.config else "",
        web=args.web,
        web_port=args.web_port,
        # mitmweb wants a token; choosing it here lets us print a URL that works.
        web_token=os.environ.get("APERTURE_PROXY_WEB_TOKEN")
        or secrets.token_urlsafe(16),
        debug=args.debug,
        mitm_options=args.set,
    )
    print(f"aperture-proxy {__version__}")
    print(
        f"listening on   http://{_hostport(host, port)}  (export HTTPS_PROXY to use it)"
    )
    print(f"gateway        {cfg.base_url}")
    print(f"CA certificate {confdir / CA_CERT}")
    if args.web:
        print(
            f"mitmweb        http://127.0.0.1:{args.web_port}/?token={setup.web_token}"
        )
    print(_routing_summary(cfg)[0])
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"WARNING: listening on {host} lets other machines use this proxy; "
            "add --set proxyauth=USER:PASS or listen on 127.0.0.1",
            file=sys.stderr,
        )
    sys.stdout.flush()
    # mitmproxy prints its own log; the CLI's handler would print every line twice.
    for handler in logging.getLogger().handlers[:]:
        logging.getLogger().removeHandler(handler)
    try:
        run_proxy(setup)
    except StartError as exc:
        raise UsageError(f"the proxy did not start: {exc}") from None
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from aperture_proxy.sim import SimSettings, serve

    settings = SimSettings(chunks=args.chunks, delay=args.delay)
    serve(
        args.host,
        args.port,
        settings,
        ready=lambda url: print(f"simulated Aperture gateway on {url}", flush=True),
    )
    return 0


def cmd_providers(args: argparse.Namespace) -> int:
    cfg = _load(args)
    table, ok = _routing_summary(cfg)
    print(table, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _env(args: argparse.Namespace) -> dict[str, str]:
    cfg = _load(args, need_gateway=False)
    host, port = _listen(args, cfg)
    return agent_environment(_hostport(host, port), _confdir(args), cfg.base_url)


def cmd_env(args: argparse.Namespace) -> int:
    print(format_exports(_env(args), args.shell))
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    command = list(args.command or [])
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise UsageError("exec needs a command: aperture-proxy exec -- claude -p 'hi'")
    env = _env(args)
    proxy = env["HTTPS_PROXY"].removeprefix("http://")
    host, _, port = proxy.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=1).close()
    except OSError:
        print(
            f"warning: nothing listens on {proxy}; start the proxy with "
            "`aperture-proxy run` first",
            file=sys.stderr,
        )
    try:
        os.execvpe(command[0], command, with_agent_env(env))
    except FileNotFoundError:
        raise UsageError(f"command not found: {command[0]}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    from aperture_proxy.demo import run_demo

    return run_demo(verbose=args.debug)


def cmd_config(args: argparse.Namespace) -> int:
    path = config_mod.resolve_config_path(args.config)
    if args.config_command == "path":
        print(path)
    elif args.config_command == "show" and args.sources:
        from aperture_proxy.config_sources import show_with_sources

        shown = show_with_sources(
            path, args.gateway, os.environ, must_exist=bool(args.config)
        )
        print(shown, end="")
    elif args.config_command == "show":
        print(_load(args, need_gateway=False).to_yaml(), end="")
    elif args.config_command == "set":
        from aperture_proxy.config_sources import set_value

        old, new, backup = set_value(path, args.key, args.value)
        if backup is not None:
            print(f"the previous file (with its comments) is saved as {backup}")
        print(f"{args.key}: {old} → {new} in {path}")
    elif args.config_command == "import":
        cfg, warnings = config_mod.import_seed_config(Path(args.seed).expanduser())
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if path.exists() and not args.force:
            raise UsageError(f"{path} exists; pass --force to replace it")
        config_mod.write_config(cfg, path)
        print(f"wrote {path}")
    return 0


def _common(parser: argparse.ArgumentParser, *, gateway: bool = True) -> None:
    if gateway:
        parser.add_argument("--gateway", help="Aperture gateway URL (or APERTURE_URL)")
    parser.add_argument("--config", help="config file (or APERTURE_PROXY_CONFIG)")


def _proxy_place(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen", help="HOST:PORT (default from config, 127.0.0.1:8080)"
    )
    parser.add_argument(
        "--confdir", help="mitmproxy confdir holding the CA (~/.mitmproxy)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aperture-proxy",
        description="Route coding agents' LLM traffic through a Tailscale Aperture "
        "gateway.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the proxy (mitmdump, or mitmweb with --web)")
    _common(run)
    _proxy_place(run)
    run.add_argument("--web", action="store_true", help="run mitmweb instead")
    run.add_argument("--web-port", type=int, default=8081, help="mitmweb port (8081)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="any mitmproxy option, e.g. --set save_stream_file=flows.mitm",
    )
    run.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="debug log"
    )
    run.set_defaults(func=cmd_run)

    sim = sub.add_parser("simulate", help="run the simulated Aperture gateway")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=0, help="0 picks a free port")
    sim.add_argument("--chunks", type=int, default=5, help="events per streamed answer")
    sim.add_argument("--delay", type=float, default=0.0, help="seconds between events")
    sim.set_defaults(func=cmd_simulate)

    providers = sub.add_parser("providers", help="print the routing table")
    _common(providers)
    providers.set_defaults(func=cmd_providers)

    env = sub.add_parser("env", help="print the exports an agent needs")
    _common(env)
    _proxy_place(env)
    env.add_argument("--shell", choices=SHELLS, default="bash")
    env.set_defaults(func=cmd_env)

    exe = sub.add_parser("exec", help="run a command with the proxy environment")
    _common(exe)
    _proxy_place(exe)
    exe.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS…]")
    exe.set_defaults(func=cmd_exec)

    demo = sub.add_parser("demo", help="the whole flow against the simulated gateway")
    demo.set_defaults(func=cmd_demo)

    cfg = sub.add_parser("config", help="show, set, locate or import the config file")
    _common(cfg)
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    show = cfg_sub.add_parser("show", help="the effective config as YAML")
    show.add_argument(
        "--sources",
        action="store_true",
        help="say where each value comes from: file, env, flag or default",
    )
    cfg_sub.add_parser("path", help="where the config file is")
    setter = cfg_sub.add_parser(
        "set",
        help="change one setting in the file, validated",
        description="KEY is dotted camelCase with [N] for list items, e.g. "
        "proxy.listen or proxy.upstreamProviders[0].credentials; VALUE is read as "
        "YAML (null removes the key, so its default applies).",
    )
    setter.add_argument("key", metavar="KEY")
    setter.add_argument("value", metavar="VALUE")
    imp = cfg_sub.add_parser("import", help="import a Pi extension's aperture.json")
    imp.add_argument("seed", help="e.g. ~/.pi/agent/extensions/aperture.json")
    imp.add_argument("--force", action="store_true", help="replace an existing file")
    cfg.set_defaults(func=cmd_config)
    from aperture_proxy.connectors.commands import register  # imports cli itself

    register(sub)
    from aperture_proxy.dedicated.commands import register as register_dedicated

    register_dedicated(sub)
    from aperture_proxy import check, doctor, onboarding, settings_menu

    for module in (onboarding, settings_menu, check, doctor):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (UsageError, config_mod.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"error: {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr
        )
        return 1


__all__ = ["CA_CERT", "build_parser", "main"]
