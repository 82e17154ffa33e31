"""Suite-wide fixtures."""

pytest_plugins = ["tests.helpers.proxy_fixtures"]
