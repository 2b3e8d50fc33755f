"""latentlab benchmarks: scripts that print tables comparing latentlab with a baseline."""
