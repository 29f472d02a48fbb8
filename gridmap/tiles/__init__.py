"""Vector tiles (MVT) built in PostGIS, their cache and the revisions that key it."""
