"""A mitmdump script: the real addon with one of its steps made to fail on purpose.

``APERTURE_TEST_BREAK`` names the function in ``aperture_proxy.addon`` to replace with
one that raises (its message carries a fake secret, which must never be logged).
"""

import os

from aperture_proxy import addon as addon_module

INJECTED_SECRET = "sk-INJECTED-SECRET-0000"


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError(f"injected failure {INJECTED_SECRET}")


setattr(addon_module, os.environ["APERTURE_TEST_BREAK"], _boom)

addons = [addon_module.Aperture()]
