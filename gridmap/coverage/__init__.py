"""5-minute service-circle coverage: the engine (pure), circles, gaps, what-if, siting, service."""
