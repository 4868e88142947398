"""The console's views, one per tab: Plugins, Invoke, Widgets, Jobs, Logs."""
