"""A loopback stand-in for the Bedrock Runtime API, so tests run the real langchain-aws / botocore client.

Speaks ``POST /model/{modelId}/converse``, ``/converse-stream`` (AWS event-stream framing), ``/invoke``
(Titan text embeddings v2) and ``POST /guardrail/{id}/version/{version}/apply`` (ApplyGuardrail, decided by a
``guardrail`` callable). SigV4 signatures are accepted unchecked (tests use dummy keys). Faults are
injected at configurable rates, reproducibly (seeded): latency, ``ThrottlingException`` (HTTP 429),
5xx errors and hangs longer than the client's read timeout.

    with BedrockStandIn(responder=my_fn, latency_s=0.01, throttle_rate=0.2) as server:
        ... ChatBedrockConverse(endpoint_url=server.url, ...)
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import unquote

Responder = Callable[[str, dict], str]


def echo_responder(model_id: str, body: dict) -> str:
    return json.dumps({"answer": "ok", "citations": []})


def user_text(body: dict) -> str:
    """The text of the last user message of a Converse request."""
    for msg in reversed(body.get("messages", [])):
        if msg.get("role") == "user":
            return "".join(part.get("text", "") for part in msg.get("content", []))
    return ""


def _header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return struct.pack("B", len(n)) + n + b"\x07" + struct.pack(">H", len(v)) + v


def event_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message (prelude, headers, payload, CRCs)."""
    hdr = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(hdr) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hdr))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    msg = prelude + hdr + payload
    return msg + struct.pack(">I", zlib.crc32(msg) & 0xFFFFFFFF)


def _event(kind: str, data: dict) -> bytes:
    return event_message({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                         json.dumps(data).encode())


@dataclass
class Stats:
    requests: int = 0
    converse: int = 0
    stream: int = 0
    invoke: int = 0
    guardrail: int = 0
    guardrail_intervened: int = 0
    throttled: int = 0
    errors: int = 0
    hangs: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class BedrockStandIn:
    def __init__(self, responder: Responder = echo_responder, latency_s: float = 0.0, throttle_rate: float = 0.0,
                 error_rate: float = 0.0, hang_rate: float = 0.0, hang_s: float = 5.0, seed: int = 0,
                 embed_dim: int = 1024, chunk_chars: int = 8, guardrail=None, guardrail_id: str = "gr-standin") -> None:
        self.responder = responder
        self.guardrail, self.guardrail_id = guardrail, guardrail_id  # (source, text, sources) -> ApplyGuardrail response
        self.latency_s, self.throttle_rate, self.error_rate = latency_s, throttle_rate, error_rate
        self.hang_rate, self.hang_s = hang_rate, hang_s
        self.embed_dim, self.chunk_chars = embed_dim, chunk_chars
        self.rng = random.Random(seed)
        self.stats = Stats()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle
    def __enter__(self) -> "BedrockStandIn":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- behaviour
    def fault(self) -> str | None:
        with self.stats.lock:
            r = self.rng.random()
        if r < self.throttle_rate:
            return "throttle"
        if r < self.throttle_rate + self.error_rate:
            return "error"
        if r < self.throttle_rate + self.error_rate + self.hang_rate:
            return "hang"
        return None

    def embed(self, text: str) -> list[float]:
        """Deterministic bag-of-words hashing embedding (normalised), so retrieval is meaningful; 1,024
        dimensions, as Titan v2 gives by default."""
        import re

        vec = [0.0] * self.embed_dim
        for word in re.findall(r"\w+", text.lower()):
            h = int(hashlib.md5(word.encode()).hexdigest(), 16)
            vec[h % self.embed_dim] += 1.0 if (h >> 8) & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]


class _Handler(BaseHTTPRequestHandler):
    standin: BedrockStandIn
    protocol_version = "HTTP/1.1"
    # each stream event is its own small write: with Nagle's algorithm the next one waits for the client's ACK,
    # which a kept-alive connection delays by up to 40 ms (a new one ACKs at once): 35 ms a call that no real
    # endpoint adds
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _json(self, status: int, data: dict, error_type: str | None = None,
              headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        s = self.standin
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        parts = self.path.split("/")
        if len(parts) == 6 and parts[1] == "guardrail" and parts[3] == "version" and parts[5] == "apply":
            self._apply_guardrail(unquote(parts[2]), unquote(parts[4]), body)
            return
        if len(parts) < 4 or parts[1] != "model":
            self._json(404, {"message": f"unknown path {self.path}"}, "ResourceNotFoundException")
            return
        model_id, op = unquote(parts[2]), parts[3]
        with s.stats.lock:
            s.stats.requests += 1
            s.stats.in_flight += 1
            s.stats.max_in_flight = max(s.stats.max_in_flight, s.stats.in_flight)
        try:
            fault = s.fault()
            if fault == "throttle":
                with s.stats.lock:
                    s.stats.throttled += 1
                self._json(429, {"message": "Too many requests, please wait before trying again."},
                           "ThrottlingException")
                return
            if fault == "error":
                with s.stats.lock:
                    s.stats.errors += 1
                self._json(503, {"message": "Service unavailable"}, "ServiceUnavailableException")
                return
            if fault == "hang":
                with s.stats.lock:
                    s.stats.hangs += 1
                time.sleep(s.hang_s)
            if s.latency_s:
                time.sleep(s.latency_s)
            if op == "invoke":
                with s.stats.lock:
                    s.stats.invoke += 1
                text = body.get("inputText", "")
                n_tokens = len(text.split())  # Bedrock reports it in the body (Titan) and in a header (every model)
                self._json(200, {"embedding": s.embed(text), "inputTextTokenCount": n_tokens},
                           headers={"X-Amzn-Bedrock-Input-Token-Count": str(n_tokens)})
                return
            stop = "end_turn"
            guard = body.get("guardrailConfig") if s.guardrail is not None else None
            if guard:  # Converse with a guardrail: checked on the way in, the model's answer on the way out
                verdict = s.guardrail("INPUT", user_text(body), None)
                if verdict.get("action") == "GUARDRAIL_INTERVENED":
                    with s.stats.lock:
                        s.stats.guardrail_intervened += 1
                    text, stop = (verdict.get("outputs") or [{"text": "blocked"}])[0]["text"], "guardrail_intervened"
            try:
                if stop == "end_turn":
                    text = s.responder(model_id, body)
            except Exception as exc:  # noqa: BLE001 - a broken responder is a test bug: say so loudly
                self._json(500, {"message": f"stand-in responder failed: {type(exc).__name__}: {exc}"},
                           "InternalServerException")
                return
            if guard and stop == "end_turn":
                verdict = s.guardrail("OUTPUT", text, None)
                if verdict.get("action") == "GUARDRAIL_INTERVENED":
                    with s.stats.lock:
                        s.stats.guardrail_intervened += 1
                    text, stop = (verdict.get("outputs") or [{"text": "blocked"}])[0]["text"], "guardrail_intervened"
            n_in = sum(len(p.get("text", "").split()) for m in body.get("messages", []) for p in m.get("content", []))
            n_in += sum(len(p.get("text", "").split()) for p in body.get("system", []))
            usage = {"inputTokens": n_in, "outputTokens": max(1, len(text.split())),
                     "totalTokens": n_in + max(1, len(text.split()))}
            if op == "converse":
                with s.stats.lock:
                    s.stats.converse += 1
                self._json(200, {"output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                                 "stopReason": stop, "usage": usage, "metrics": {"latencyMs": 1}})
            elif op == "converse-stream":
                with s.stats.lock:
                    s.stats.stream += 1
                self._stream(text, usage, stop)
            else:
                self._json(404, {"message": f"unknown operation {op}"}, "ResourceNotFoundException")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer
        finally:
            with s.stats.lock:
                s.stats.in_flight -= 1

    def _apply_guardrail(self, guardrail_id: str, version: str, body: dict) -> None:
        """``ApplyGuardrail``: the stand-in's ``guardrail`` callable decides (source, text to guard, grounding
        sources) -> the response; 404 for a guardrail the stand-in does not know."""
        s = self.standin
        with s.stats.lock:
            s.stats.requests += 1
            s.stats.guardrail += 1
        if s.guardrail is None or guardrail_id != s.guardrail_id:
            self._json(404, {"message": f"guardrail {guardrail_id} not found"}, "ResourceNotFoundException")
            return
        blocks = [c.get("text", {}) for c in body.get("content", [])]
        guard = "\n".join(b.get("text", "") for b in blocks if "grounding_source" not in (b.get("qualifiers") or []))
        sources = [b.get("text", "") for b in blocks if "grounding_source" in (b.get("qualifiers") or [])]
        self._json(200, s.guardrail(body.get("source", "INPUT"), guard, sources or None))

    def _stream(self, text: str, usage: dict, stop: str = "end_turn") -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        n = self.standin.chunk_chars
        events = [_event("messageStart", {"role": "assistant"})]
        events += [_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text[i:i + n]}})
                   for i in range(0, len(text), n)]
        events += [_event("contentBlockStop", {"contentBlockIndex": 0}),
                   _event("messageStop", {"stopReason": stop}),
                   _event("metadata", {"usage": usage, "metrics": {"latencyMs": 1}})]
        for ev in events:
            self.wfile.write(f"{len(ev):X}\r\n".encode() + ev + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
