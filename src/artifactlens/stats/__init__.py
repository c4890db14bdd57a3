"""Statistics shared by every audit: the streaming Poisson bootstrap and small helpers."""
from .bootstrap import BootstrapSums, GroupedSums, bootstrap_rate, hash_keys, hash_texts, poisson_weights, DEFAULT_REPLICATES

__all__ = ["BootstrapSums", "GroupedSums", "bootstrap_rate", "hash_keys", "hash_texts", "poisson_weights", "DEFAULT_REPLICATES"]
