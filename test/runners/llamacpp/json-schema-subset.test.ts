import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { grammarSchema } from '../../../src/runners/llamacpp/json-schema-subset.js';

/** Schemas the llama.cpp grammar can enforce pass; anything it would silently not enforce is refused by name. */
function refusal(schema: unknown): string {
  try {
    grammarSchema(schema);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error('accepted');
}

describe('the JSON Schema subset for grammars', () => {
  it('keeps what it enforces, drops annotations, reads anyOf as oneOf', () => {
    expect(
      grammarSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        title: 'x',
        type: 'object',
        properties: { a: { anyOf: [{ type: 'string', maxLength: 3 }, { type: 'null' }] } },
        required: ['a'],
      }),
    ).toEqual({
      type: 'object',
      properties: { a: { oneOf: [{ type: 'string', maxLength: 3 }, { type: 'null' }] } },
      required: ['a'],
    });
  });

  it.each([
    [{ type: 'string', pattern: '^a$' }, 'response_format.json_schema.schema.pattern: "pattern"'],
    [{ type: 'object', properties: { n: { type: 'integer', minimum: 0 } } }, 'schema.properties.n.minimum'],
    [{ properties: { a: { $ref: '#/nowhere' } } }, 'schema.properties.a.$ref: a $ref outside #/$defs/'],
    [{ type: 'string', format: 'email' }, 'format "email"'],
    [{ type: 'frobnicate' }, 'type "frobnicate"'],
    [{ allOf: [] }, '"allOf"'],
  ])('refuses %j, naming where', (schema, expected) => {
    expect(refusal(schema)).toContain(expected);
  });
});
