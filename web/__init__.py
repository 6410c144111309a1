"""web layer of vksroom."""
