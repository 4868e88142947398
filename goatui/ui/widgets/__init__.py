"""Widgets the views are built from."""
