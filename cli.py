"""echelon command line (placeholder until scenarios land)."""
