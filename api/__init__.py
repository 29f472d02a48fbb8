"""The gridmap web API: a FastAPI app over the gridmap library."""
