"""The package version, in one place below everything that prints or records it."""
__version__ = "0.1.0"
