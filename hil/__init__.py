"""hil layer of vksroom."""
