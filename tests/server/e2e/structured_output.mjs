// Structured output through the official `openai` npm client, checked the strict way: the reply schema comes
// from a zod type (zodResponseFormat: an OpenAI strict json_schema, shared sub-objects as $refs), and the
// client's own parse() validates every reply with zod, streamed or not. The server (started by
// test_e2e_node.cpp) runs our engine on a random checkpoint, so only the sampler's constraint can make the
// replies fit.
// Usage: BASE_URL=http://127.0.0.1:PORT node structured_output.mjs
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';

const client = new OpenAI({ baseURL: process.env.BASE_URL + '/v1', apiKey: 'unused', maxRetries: 0 });
const model = 'agentrt';
const Unit = z.object({ unit: z.enum(['m', 'kg']), exact: z.boolean() });
const Verdict = z.object({
  verdict: z.enum(['yes', 'no']),
  steps: z.number().int(),
  sure: z.boolean(),
  length: Unit,
  weight: Unit,  // the same zod type twice: zod-to-json-schema writes it once, as a $ref
  tags: z.array(z.enum(['heavy', 'light'])),
});
const format = zodResponseFormat(Verdict, 'verdict');
assert.equal(format.json_schema.strict, true);
assert.match(JSON.stringify(format.json_schema.schema), /\$ref/);

let parsed = 0;
for (let seed = 1; seed <= 4; seed++) {
  const r = await client.beta.chat.completions.parse({
    model, seed, temperature: 1, max_tokens: 400, response_format: format,
    messages: [{ role: 'user', content: 'Is the crate heavy?' }],
  });
  const msg = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'stop');
  Verdict.parse(msg.parsed);  // parse() did this already; say it once more
  assert.deepEqual(msg.parsed, JSON.parse(msg.content));
  parsed++;
}
console.log(`ok - ${parsed} replies parsed and validated by zod`);

const stream = client.beta.chat.completions.stream({
  model, seed: 9, temperature: 1, max_tokens: 400, response_format: format,
  messages: [{ role: 'user', content: 'And the other crate?' }],
});
let deltas = 0;
stream.on('content.delta', () => deltas++);
const final = await stream.finalChatCompletion();
Verdict.parse(final.choices[0].message.parsed);
assert.ok(deltas > 1, 'the JSON came in pieces');
console.log(`ok - a streamed reply (${deltas} deltas) parsed and validated by zod`);

// What the server cannot enforce is refused by name, not ignored.
await assert.rejects(client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'x' }],
  response_format: { type: 'json_schema', json_schema: { name: 'v', strict: true, schema: {
    type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]+$' } }, required: ['code'],
    additionalProperties: false } } },
}), (e) => e instanceof OpenAI.BadRequestError && e.param === 'response_format' && /pattern/.test(e.message));
console.log('ok - a schema keyword the server cannot enforce is a 400 naming response_format');
console.log('all structured output steps passed');
