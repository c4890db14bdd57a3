"""Shared text machinery: packaged embeddings (MiniLM) and, later, text features."""
