"""The script the ``aperture-proxy run`` command hands to mitmdump and mitmweb.

A copy of ``addons/aperture.py`` that ships inside the package.
"""

from aperture_proxy.addon import Aperture

addons = [Aperture()]
