"""A stand-in Claude *judge* for the Bedrock stand-in server: answers ragas' metric prompts with the JSON each
asks for, by simple rules, so tests can say exactly which scores must come out.

Rules: a statement (a sentence of the answer or reference) is supported when every word of 3+ letters in it
occurs in the context; the question generated back from an answer is the golden question whose reference
answer it is (so answer relevance is 1.0 for a reference answer). Answers containing ``JUDGE-GARBAGE`` get a
reply that is not JSON; answers containing ``JUDGE-EMPTY`` get no statements (ragas returns NaN).
"""

from __future__ import annotations

import json
import re

from bedrock_standin import user_text

_WORD = re.compile(r"[a-z0-9][a-z0-9\-/.]*[a-z0-9]|[a-z0-9]")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 3}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]


def supported(statement: str, context: str) -> bool:
    return _words(statement) <= _words(context)


class JudgeResponder:
    def __init__(self, questions_by_answer: dict[str, str] | None = None, fallback=None) -> None:
        self.questions_by_answer = questions_by_answer or {}
        self.fallback = fallback
        self.calls: dict[str, int] = {}

    def __call__(self, model_id: str, body: dict) -> str:
        text = user_text(body)
        kind = re.search(r'"title": "(\w+Output)"', text)
        if "Now perform the same with the following input" not in text or not kind:
            if self.fallback is None:
                raise AssertionError(f"not a ragas prompt: {text[:200]!r}")
            return self.fallback(model_id, body)
        kind = kind.group(1)
        self.calls[kind] = self.calls.get(kind, 0) + 1
        data = json.loads(text.rsplit("input: ", 1)[1].rsplit("\nOutput: ", 1)[0])
        if kind == "StatementGeneratorOutput":
            if "JUDGE-GARBAGE" in data["answer"]:
                return "I am not able to evaluate this answer."
            if "JUDGE-EMPTY" in data["answer"]:
                return json.dumps({"statements": []})
            return "```json\n" + json.dumps({"statements": _sentences(data["answer"])}) + "\n```"
        if kind == "NLIStatementOutput":
            return json.dumps({"statements": [
                {"statement": s, "reason": "checked word by word", "verdict": int(supported(s, data["context"]))}
                for s in data["statements"]]})
        if kind == "AnswerRelevanceOutput":
            q = self.questions_by_answer.get(data["response"], "What is the weather like on Mars?")
            return json.dumps({"question": q, "noncommittal": 0})
        if kind == "ContextPrecisionOutput":
            useful = any(supported(s, data["context"]) for s in _sentences(data["answer"]))
            return json.dumps({"reason": "the context states the answer" if useful else "not useful",
                               "verdict": int(useful)})
        if kind == "ContextRecallOutput":
            return json.dumps({"classifications": [
                {"statement": s, "reason": "compared with the context", "attributed": int(supported(s, data["context"]))}
                for s in _sentences(data["answer"])]})
        raise AssertionError(f"unexpected ragas prompt {kind}")
