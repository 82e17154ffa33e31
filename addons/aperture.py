"""Entry script: ``mitmdump -s addons/aperture.py --set aperture_gateway=URL``.

Works the same with ``mitmweb``. Options: ``aperture_gateway``, ``aperture_config``.
"""

from aperture_proxy.addon import Aperture

addons = [Aperture()]
