"""One stage per module. Each is registered by name in pipelines.registry."""
