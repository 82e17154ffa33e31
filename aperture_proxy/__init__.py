"""aperture-proxy: route coding agents' LLM traffic through a Tailscale Aperture gateway."""
