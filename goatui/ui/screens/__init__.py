"""Modal screens: help, save-to-file prompt."""
