"""Dedicated mode: provider files for agents from the gateway catalogue."""
