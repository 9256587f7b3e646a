"""The app's routers, one resource per module."""
