"""Chunking, embeddings and a FAISS vector index persisted without pickle.

The index is built once per (corpus, embedding model, chunking) and kept under
``<index_dir>/<key>/`` as ``index.faiss`` (FAISS's own binary format, read by ``faiss.read_index``),
``chunks.json`` and ``meta.json``. Nothing is ever unpickled, so an index directory a user can write cannot
run code when loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from harness.errors import HarnessInputError
from harness.files import dumps_json, read_json
from harness.models.embeddings import Embedder


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
    def build(cls, chunks: list[Chunk], embedder: Embedder, meta: dict, batch: int = 64,
              show_progress: bool | None = None) -> "VectorIndex":
        """Embed ``chunks`` ``batch`` at a time (progress as :mod:`harness.progress` shows it; ``False``: none)."""
        import faiss

        from harness.progress import progress

        pairs = []
        with progress(len(chunks), "embedding the index's chunks", "chunk", enabled=show_progress) as bar:
            for i in range(0, len(chunks), batch):
                pairs.append(embedder.embed_counted([c.text for c in chunks[i:i + batch]]))
                bar.update(len(chunks[i:i + batch]))
        matrix = np.vstack([v for v, _ in pairs]) if pairs else np.zeros((0, 1), dtype=np.float32)
        counts = [n for _, n in pairs]
        tokens = None if any(n is None for n in counts) else sum(counts)  # None: the service did not report them
        index = faiss.IndexFlatIP(matrix.shape[1])
        index.add(matrix)
        return cls(index, chunks, {**meta, "n_chunks": len(chunks), "dim": int(matrix.shape[1]),
                                   "embedding_tokens": tokens})

    def save(self, directory: Path) -> None:
        import faiss

        # every file atomically, index.faiss last: a reader in another process (students graded on a Dask
        # cluster share one index) that sees index.faiss sees complete chunks and meta
        directory.mkdir(parents=True, exist_ok=True)
        tag = f"{os.getpid()}.{threading.get_ident()}.tmp"
        for name, text in (("chunks.json", dumps_json([c.__dict__ for c in self.chunks], ensure_ascii=False)),
                           ("meta.json", dumps_json(self.meta, indent=2))):
            tmp = directory / f"{name}.{tag}"
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, directory / name)
        tmp = directory / f"index.faiss.{tag}"
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, directory / "index.faiss")

    @classmethod
    def load(cls, directory: Path) -> "VectorIndex":
        """Read an index directory; anything unreadable is exit 2 naming it (delete the directory to rebuild)."""
        import faiss

        try:
            raw_chunks = read_json(directory / "chunks.json", "index chunks")
            meta = read_json(directory / "meta.json", "index meta")
            if not isinstance(meta, dict) or not isinstance(raw_chunks, list):
                raise HarnessInputError("chunks.json must be a list and meta.json an object", path=directory)
            chunks = [Chunk(**c) for c in raw_chunks]
            if not all(isinstance(x, str) for c in chunks for x in (c.id, c.doc_id, c.text)):
                raise TypeError("chunk fields must be strings")
            index = faiss.read_index(str(directory / "index.faiss"))
        except HarnessInputError as exc:
            raise HarnessInputError(f"unreadable index ({exc}); delete the directory to rebuild", path=directory) \
                from None
        except (TypeError, RuntimeError) as exc:  # faiss raises RuntimeError on a file it cannot parse
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise HarnessInputError(f"unreadable index ({first[:200]}); delete the directory to rebuild",
                                    path=directory) from None
        if index.ntotal != len(chunks) or (chunks and index.d != meta.get("dim")):
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
                                                     "n_documents": len(docs)},
                                  show_progress=None if progress is not None else False)
        index.save(directory)
        return index, True
