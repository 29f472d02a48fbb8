"""Reports and printed pieces: duty cards, coverage reports; HTML, PDF (headless Chromium)."""
