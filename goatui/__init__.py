"""goatui: a terminal admin console for GoatFlow's gRPC plugins."""

__version__ = "0.1.0"
