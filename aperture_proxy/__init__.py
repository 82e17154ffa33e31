"""aperture-proxy: coding agents' LLM traffic through a Tailscale Aperture gateway."""

__version__ = "0.1.0"

__all__ = ["__version__"]
