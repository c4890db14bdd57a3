"""Models in the loop: one client for any OpenAI-compatible endpoint, the shipped local model, generation.

- :mod:`.client`: :class:`ChatClient` (httpx; bounded concurrency, retries, request cap, disk cache).
- :mod:`.options`: :class:`ModelOptions` and :func:`add_model_arguments` (``--llm-endpoint`` ...).
- :mod:`.serve`: ``artifactlens llm serve``: llama-cpp-python's server on SmolLM2-135M-Instruct.
- :mod:`.generate`: ``artifactlens generate labels|judgments|roleplay``, output ready to audit.
- :mod:`.cli`: the argparse wiring of those commands.

Nothing here sends a request unless the user names an endpoint; there is no default remote host.
"""
from .client import Answer, ChatClient, RequestCapReached, template_hash
from .options import ModelFields, ModelOptions, add_model_arguments, model_fields_from_args

__all__ = ["Answer", "ChatClient", "ModelFields", "ModelOptions", "RequestCapReached", "add_model_arguments",
           "model_fields_from_args", "template_hash"]
