"""The route families, collected in the order the app includes them."""

from api.routes import docs, features, health, landing, tiles

ROUTERS = (landing.router, docs.router, health.router, features.router, tiles.router)
