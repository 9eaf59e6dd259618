"""InternLM2 prompt rendering (the `internlm2` flavour of agent/renderer.cpp) for the training data, split into
segments that say which bytes the model is trained to produce. The prefix (system turns and tool declarations) is
byte-identical to what `agentrt run` sends: tests/examples/test_demo_model.py checks it against the prompts the
real session hands its backend (`agentrt eval synthetic --dump-prompts`)."""
import json
import pathlib

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
ACTION_START, ACTION_END = "<|action_start|>", "<|action_end|>"
PLUGIN, INTERPRETER = "<|plugin|>", "<|interpreter|>"
# Raw sentencepiece names of the six protocol tokens (../shared/spec/internlm2-protocol.md §1), in id order of InternLM2's vocabulary.
SPECIALS = [("[UNUSED_TOKEN_141]", PLUGIN), ("[UNUSED_TOKEN_142]", INTERPRETER), ("[UNUSED_TOKEN_143]", ACTION_END),
            ("[UNUSED_TOKEN_144]", ACTION_START), ("[UNUSED_TOKEN_145]", IM_END), ("[UNUSED_TOKEN_146]", IM_START)]

REPO = pathlib.Path(__file__).resolve().parents[2]


def prompt_text(name):
    """A prompt file as prompts::get returns it: the file's final newline is not part of the prompt."""
    text = (REPO / "prompts" / name).read_text(encoding="utf-8")
    return text[:-1] if text.endswith("\n") else text


def turn(role, content, name=""):
    return IM_START + role + (" name=" + name if name else "") + "\n" + content + IM_END + "\n"


def system_prefix(tools, lang="en", interpreter=True):
    """Everything before the user's turn: the agent system prompt, the interpreter's turn (when the code
    interpreter is offered), then the plugin turn declaring `tools`."""
    tools_json = json.dumps(tools, indent=4, ensure_ascii=False)
    plugin = prompt_text(f"system/plugin.{lang}.txt").replace("{tools}", tools_json, 1)
    out = turn("system", prompt_text(f"system/agent.{lang}.txt"))
    if interpreter:
        out += turn("system", prompt_text(f"system/interpreter.{lang}.txt"), INTERPRETER)
    return out + turn("system", plugin, PLUGIN)


def call_json(name, parameters):
    return json.dumps({"name": name, "parameters": parameters}, ensure_ascii=False)


def call_text(tool, params):
    """A call as the renderer writes it: a plugin call's JSON, or the interpreter's fenced Lua cell."""
    if tool == "interpreter":
        return INTERPRETER + "\n```lua\n" + params["code"] + "\n```"
    return PLUGIN + "\n" + call_json(tool, params)


def render_conversation(tools, task, steps, answer, interpreter=True):
    """Segments (text, trained) of one conversation. `steps` is a list of (thought, tool, parameters, result,
    trained): each a model turn with one plugin call and the environment turn holding the tool's result.
    The model is trained on its own turns (thought, call, closing tags) and on the final answer; the header of
    each assistant turn is part of the prompt, as it is at run time."""
    segs = [(system_prefix(tools, interpreter=interpreter) + turn("user", task), False)]
    for thought, tool, params, result, trained in steps:
        segs.append((IM_START + "assistant\n", False))
        body = thought + ACTION_START + call_text(tool, params) + ACTION_END + "\n" + IM_END
        segs.append((body, trained))
        channel = INTERPRETER if tool == "interpreter" else PLUGIN
        segs.append(("\n" + turn("environment", result, channel), False))
    segs.append((IM_START + "assistant\n", False))
    segs.append((answer + IM_END, True))
    segs.append(("\n", False))
    return segs


def messages_of(task, steps, answer, system):
    """The same conversation as role/name/content messages (the input of `agentrt render`)."""
    msgs = [{"role": "system", "content": system}, {"role": "user", "content": task}]
    for i, (thought, tool, params, result, _) in enumerate(steps):
        call_id = f"call_{i + 1}"
        msgs.append({"role": "assistant", "content": thought, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": tool, "arguments": json.dumps(params)}}]})
        msgs.append({"role": "tool", "tool_call_id": call_id, "content": result})
    msgs.append({"role": "assistant", "content": answer})
    return msgs
