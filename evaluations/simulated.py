"""The simulated model: an Inspect model provider that answers a suite's items correctly with a
capability level set per category, so the demo and the tests run offline.

Selectable like any other model: `portalsim/<name>` with model_args {"levels": {category: 0..1},
"latency_ms": int, "seed": str}. It recognises an item by its input text in the prompt, using the
answer key that the engine registers before the evaluation (never passed through model_args, so
targets do not end up in the log's model arguments).
"""

import asyncio
import hashlib
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

# input text -> item dict ({"id", "input", "choices", "target", "category"})
_ANSWER_KEY: dict[str, dict] = {}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def register_answer_key(items: list[dict]) -> None:
    _ANSWER_KEY.clear()
    _ANSWER_KEY.update({item["input"]: item for item in items})


def answers_correctly(*, seed: str, item_id: str, level: float) -> bool:
    """Deterministic: the same item, seed and level always give the same answer."""
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < level


def _find_item(prompt: str) -> dict | None:
    best = None
    for text, item in _ANSWER_KEY.items():
        if text in prompt and (best is None or len(text) > len(best["input"])):
            best = item
    return best


@modelapi(name="portalsim")
class SimulatedModelAPI(ModelAPI):
    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig | None = None, **model_args: Any) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key,
                         config=config or GenerateConfig())
        self.levels = {k: float(v) for k, v in (model_args.get("levels") or {}).items()}
        self.latency = int(model_args.get("latency_ms") or 0) / 1000
        self.seed = str(model_args.get("seed") or model_name)

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo],
                       tool_choice: ToolChoice, config: GenerateConfig) -> ModelOutput:
        if self.latency:
            await asyncio.sleep(self.latency)
        prompt = "\n".join(m.text for m in input)
        item = _find_item(prompt)
        text = "I cannot help with that."
        if item is not None:
            correct = answers_correctly(seed=self.seed, item_id=str(item["id"]),
                                        level=self.levels.get(item["category"], 0.0))
            text = self._answer(item, correct)
        output = ModelOutput.from_content(model=self.model_name, content=text)
        # Reported usage keeps Inspect from counting tokens with tiktoken, which would try to
        # download its encoding file (no network here).
        words = max(1, len(prompt.split()))
        output.usage = ModelUsage(input_tokens=words, output_tokens=len(text.split()),
                                  total_tokens=words + len(text.split()))
        return output

    @staticmethod
    def _answer(item: dict, correct: bool) -> str:
        target = str(item["target"])
        if item.get("choices"):
            letters = LETTERS[: len(item["choices"])]
            letter = target if correct else next(c for c in letters if c != target)
            return f"ANSWER: {letter}"
        return target if correct else "I do not know."

    def max_connections(self) -> int:
        return 32
