import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ID, startTinyServer, type TestServer } from './helpers.js';

/**
 * `response_format` through the official OpenAI client, over the real llama.cpp runner and a tiny random-weight
 * GGUF: the model never chooses JSON, so only the grammar can make the answer valid. The schemas are bounded
 * (enum, maxItems, maxLength) so a complete answer fits in max_tokens.
 */
const KEY = 'serve-structured-key-0123';
let t: TestServer;
let client: OpenAI;

beforeAll(async () => {
  t = await startTinyServer({ apiKey: KEY, parallel: 2 });
  await t.server.ready;
  client = new OpenAI({ baseURL: t.baseURL, apiKey: KEY, maxRetries: 0 });
});

afterAll(async () => {
  await t?.server.close();
});

const schema = {
  type: 'object',
  properties: {
    verdict: { type: 'string', enum: ['yes', 'no', 'maybe'] },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, maxItems: 3 },
    note: { type: 'string', maxLength: 12 },
  },
  required: ['verdict', 'tags', 'note'],
  additionalProperties: false,
} as const;

/** What the schema says, checked by hand (no validator dependency for three fields). */
function followsSchema(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { verdict, tags, note, ...rest } = value as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    ['yes', 'no', 'maybe'].includes(verdict as string) &&
    Array.isArray(tags) &&
    tags.length <= 3 &&
    tags.every((tag) => ['a', 'b', 'c'].includes(tag as string)) &&
    typeof note === 'string' &&
    note.length <= 12
  );
}

const responseFormat = {
  type: 'json_schema' as const,
  json_schema: { name: 'verdict', schema, strict: true },
};

describe('serve: response_format on the llama.cpp runner', () => {
  it.each([1, 2, 3])('json_schema: the answer is JSON valid against the schema (seed %i)', async (seed) => {
    const answer = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [{ role: 'user', content: 'Is the sea blue? Answer as JSON.' }],
      max_tokens: 200,
      seed,
      response_format: responseFormat,
    });
    const content = answer.choices[0]?.message.content ?? '';
    expect(followsSchema(JSON.parse(content)), content).toBe(true);
    expect(answer.choices[0]?.finish_reason).toBe('stop');
  });

  it('json_schema, streamed: the pieces join into valid JSON', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [{ role: 'user', content: 'Answer as JSON.' }],
      max_tokens: 200,
      seed: 9,
      stream: true,
      response_format: responseFormat,
    });
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    expect(followsSchema(JSON.parse(content)), content).toBe(true);
  });

  it('a schema that cannot constrain decoding is a 400 naming the field, before any text', async () => {
    const error = await client.chat.completions
      .create({
        model: MODEL_ID,
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 8,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'bad', schema: { type: 'object', properties: { a: { $ref: '#/nowhere' } } } },
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_response_format');
  });

  it('an unknown response_format type is a 400 naming response_format', async () => {
    const response = await fetch(`${t.server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        model: MODEL_ID,
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'yaml' },
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { param: 'response_format.type' } });
  });
});
