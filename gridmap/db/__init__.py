"""The database: models, migrations, engines and the embedded PostGIS cluster."""
