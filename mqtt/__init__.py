"""mqtt layer of vksroom."""
