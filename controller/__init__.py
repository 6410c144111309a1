"""controller layer of vksroom."""
