#!/usr/bin/python3
"""Writes the renderer's golden prompts with Python's own json.dumps, the serializer the models' training data
and Lagent / lmdeploy used, so the C++ renderer is checked against the real thing rather than against itself.
Run: /usr/bin/python3 tests/agent/golden/make_goldens.py  (writes next to this file)."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

weather = {
    "name": "get_current_weather",
    "description": "Get the current weather in a given location",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "unit": {"type": "string"},
        },
        "required": ["location"],
    },
}
search_zh = {
    "name": "搜索",
    "description": "在本地文档中搜索「天气」等信息",
    "parameters": [{"name": "query", "type": "STRING", "description": "查询词"}],
    "required": ["query"],
}

# Lagent / chat_format.md convention: tools as json.dumps(indent=4), calls as json.dumps(dict(name, parameters)),
# "<|action_end|>\n" after a call in the history, results as environment name=<|plugin|>.
tools_json = json.dumps([weather, search_zh], indent=4, ensure_ascii=False)
call = json.dumps({"name": "get_current_weather", "parameters": {"location": "上海", "unit": "celsius"}},
                  ensure_ascii=False)
prompt = (
    "<|im_start|>system\nYou are InternLM2-Chat, a harmless AI assistant<|im_end|>\n"
    f"<|im_start|>system name=<|plugin|>\n{tools_json}<|im_end|>\n"
    "<|im_start|>user\nI want to know today's weather in Shanghai<|im_end|>\n"
    "<|im_start|>assistant\nSure, I will search for the weather of Shanghai."
    f"<|action_start|><|plugin|>\n{call}<|action_end|>\n<|im_end|>\n"
    '<|im_start|>environment name=<|plugin|>\n{"temperature": 22}<|im_end|>\n'
    "<|im_start|>assistant\n"
)
with open(os.path.join(HERE, "internlm2_structured.txt"), "w", encoding="utf-8") as f:
    f.write(prompt)

# lmdeploy's template: compact json.dumps of the function objects, "<|action_end|><|im_end|>", tool role -> bare
# environment turn, plugin turn inserted after a leading system turn.
lm_tools = json.dumps([weather, search_zh], ensure_ascii=False)
prompt = (
    "<|im_start|>system name=<|interpreter|>\nYou have access to a Lua environment.<|im_end|>\n"
    f"<|im_start|>system name=<|plugin|>\n{lm_tools}<|im_end|>\n"
    "<|im_start|>user\nWeather?<|im_end|>\n"
    f"<|im_start|>assistant\nLet me check.<|action_start|><|plugin|>\n{call}<|action_end|><|im_end|>\n"
    '<|im_start|>environment\n{"temperature": 22}<|im_end|>\n'
    "<|im_start|>assistant\n"
)
with open(os.path.join(HERE, "lmdeploy_structured.txt"), "w", encoding="utf-8") as f:
    f.write(prompt)
