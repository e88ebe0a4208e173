"""prudent's benchmarks: speed and quality as ratios to a reference measured in the same run."""
