"""Shared fixtures. Every network fixture binds 127.0.0.1 only and stops by itself."""
