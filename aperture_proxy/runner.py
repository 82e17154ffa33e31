"""Running mitmdump or mitmweb in-process with the Aperture addon built in.

Loading the addon as a ``-s`` script leaves a gap: when mitmproxy cannot register a
script (an option given twice, say) it logs the problem and carries on as a plain
proxy, forwarding agents' keys to the real providers. Built in, any setup problem
stops the proxy before it listens.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field

from mitmproxy import exceptions, options
from mitmproxy.hooks import ConfigureHook
from mitmproxy.master import Master

from aperture_proxy.addon import Aperture

#: mitmweb's default flow list columns (mitmproxy 12).
WEB_COLUMNS = ["tls", "icon", "path", "method", "status", "size", "time"]


class StartError(Exception):
    """The proxy could not start; the message says why and what to do."""


@dataclass
class ProxySetup:
    """What ``aperture-proxy run`` starts."""

    listen_host: str
    listen_port: int
    confdir: str
    gateway: str
    config: str = ""
    web: bool = False
    web_port: int = 8081
    web_token: str = ""
    debug: bool = False
    mitm_options: Sequence[str] = field(default_factory=list)  # "name=value"


def _master(setup: ProxySetup, opts: options.Options) -> Master:
    if setup.web:
        from mitmproxy.tools.web.master import WebMaster

        return WebMaster(opts)
    from mitmproxy.tools.dump import DumpMaster

    return DumpMaster(opts)


def _insert_addon(master: Master, addon: Aperture) -> None:
    """Add the addon where ``-s`` scripts run: before flow saving and the dumper,
    so that credentials are redacted before anything is printed or stored."""
    master.addons.add(addon)
    chain = master.addons.chain
    loader = master.addons.get("scriptloader")
    chain.remove(addon)
    chain.insert(chain.index(loader) + 1 if loader in chain else 0, addon)


async def _run(setup: ProxySetup) -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    for noisy in ("tornado", "asyncio", "hpack", "quic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    opts = options.Options(
        listen_host=setup.listen_host,
        listen_port=setup.listen_port,
        confdir=setup.confdir,
    )
    master = _master(setup, opts)
    addon = Aperture(gateway=setup.gateway, config=setup.config)
    try:
        _insert_addon(master, addon)
        # mitmproxy configures addons only for options that change; this one must
        # be configured before the proxy listens, whatever the options are.
        master.addons.invoke_addon_sync(addon, ConfigureHook(set(opts.keys())))
        updates: dict[str, object] = {}
        if setup.debug:
            updates["termlog_verbosity"] = "debug"
        if setup.web:
            updates |= {
                "web_open_browser": False,
                "web_host": "127.0.0.1",
                "web_port": setup.web_port,
                "web_password": setup.web_token,
                # The rerouting note is the point of looking; show it by default.
                "web_columns": [*WEB_COLUMNS, "comment"],
            }
        opts.update(**updates)
        opts.set(*setup.mitm_options)
    except (exceptions.OptionsError, KeyError) as exc:
        raise StartError(str(exc).strip("'\"")) from None

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, master.shutdown)
    loop.add_signal_handler(signal.SIGTERM, master.shutdown)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    await master.run()


def run_proxy(setup: ProxySetup) -> None:
    """Run until interrupted; setup problems raise StartError before listening."""
    asyncio.run(_run(setup))
