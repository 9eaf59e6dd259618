// Drives agentrt serve with the official `openai` npm client: a chat turn, a tool call, streamed tool-call
// deltas, tool results sent back, and the client's typed errors. The server (started by the GoogleTest driver,
// test_e2e_node.cpp) replays the scripted replies in the order these steps ask for them.
// Usage: BASE_URL=http://127.0.0.1:PORT API_KEY=KEY node openai_client.mjs
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.BASE_URL + '/v1';
const client = new OpenAI({ baseURL, apiKey: process.env.API_KEY, maxRetries: 0 });
const model = 'agentrt';
const tools = [{
  type: 'function',
  function: {
    name: 'calculator',
    description: 'Evaluates an arithmetic expression',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
}];

async function step(name, fn) {
  await fn();
  console.log('ok -', name);
}

await step('models list', async () => {
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['agentrt']);
});

await step('plain chat', async () => {
  const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Say hello' }] });
  assert.equal(r.choices[0].message.content, 'Hello from AgentRT.');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.completion_tokens > 0);
});

await step('tool call', async () => {
  const r = await client.chat.completions.create({
    model, tools, messages: [{ role: 'user', content: 'What is 6*7?' }],
  });
  const msg = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(msg.tool_calls.length, 1);
  assert.equal(msg.tool_calls[0].function.name, 'calculator');
  assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), { expression: '6*7' });
});

let streamedCall;
await step('streamed tool call (argument deltas accumulated by hand)', async () => {
  const stream = await client.chat.completions.create({
    model, tools, stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'What is 2+3?' }],
  });
  let content = '';
  const calls = [];
  let finish = null;
  let usage = null;
  let argumentDeltas = 0;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.delta.content) content += choice.delta.content;
    for (const tc of choice.delta.tool_calls ?? []) {
      calls[tc.index] ??= { id: '', name: '', arguments: '' };
      if (tc.id) calls[tc.index].id = tc.id;
      if (tc.function?.name) calls[tc.index].name += tc.function.name;
      if (tc.function?.arguments) {
        calls[tc.index].arguments += tc.function.arguments;
        argumentDeltas++;
      }
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  assert.equal(content, 'Adding them.');
  assert.equal(finish, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'calculator');
  assert.deepEqual(JSON.parse(calls[0].arguments), { expression: '2+3' });
  assert.ok(usage && usage.completion_tokens > 0);
  assert.ok(argumentDeltas > 1, 'the arguments streamed in pieces as they were written');
  streamedCall = calls[0];
});

await step('streamed tool call (the client library\'s own accumulator)', async () => {
  const runner = client.beta.chat.completions.stream({
    model, tools, messages: [{ role: 'user', content: 'What is 9-4?' }],
  });
  const final = await runner.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'calculator');
  assert.deepEqual(JSON.parse(call.function.arguments), { expression: '9-4' });
});

await step('tool result sent back', async () => {
  const r = await client.chat.completions.create({
    model, tools,
    messages: [
      { role: 'user', content: 'What is 2+3?' },
      { role: 'assistant', content: 'Adding them.', tool_calls: [{ id: streamedCall.id, type: 'function',
        function: { name: streamedCall.name, arguments: streamedCall.arguments } }] },
      { role: 'tool', tool_call_id: streamedCall.id, content: '5' },
    ],
  });
  assert.equal(r.choices[0].message.content, '2+3 = 5.');
});

await step('named tool_choice', async () => {
  const r = await client.chat.completions.create({
    model, tools, tool_choice: { type: 'function', function: { name: 'calculator' } },
    messages: [{ role: 'user', content: 'Compute 1+1' }],
  });
  assert.deepEqual(JSON.parse(r.choices[0].message.tool_calls[0].function.arguments), { expression: '1+1' });
});

await step('typed errors', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found');
  await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'max_tokens');
  const wrongKey = new OpenAI({ baseURL, apiKey: 'not-the-key', maxRetries: 0 });
  await assert.rejects(wrongKey.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});

console.log('all openai client steps passed');
