"""Re-partitioning units into grids: the engine (pure), and later plans, codes and the service."""
