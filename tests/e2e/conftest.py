"""End-to-end tests share the suite-wide proxy fixtures (tests/helpers)."""

from tests.helpers.proxy_fixtures import Proxy, start_proxy

__all__ = ["Proxy", "start_proxy"]
