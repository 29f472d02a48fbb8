"""The route families, collected in the order the app includes them."""

from api.routes import (
    cards,
    coverage,
    docs,
    features,
    health,
    jobs,
    landing,
    plans,
    reports,
    stations,
    tickets,
    tiles,
    tokens,
    web,
)

ROUTERS = (
    landing.router,
    docs.router,
    health.router,
    features.router,
    tiles.router,
    plans.router,
    jobs.router,
    coverage.router,
    stations.router,
    tickets.router,
    reports.router,
    cards.router,
    tokens.router,
    web.router,
)
