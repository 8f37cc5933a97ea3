"""Page views, one module per area; thin: they check access, read through selectors, call services."""
