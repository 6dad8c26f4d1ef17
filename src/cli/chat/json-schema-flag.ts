import { readFileSync } from 'node:fs';
import { UsageError } from '../../core/errors.js';
import type { ResponseFormat } from '../../core/model-runner.js';

/**
 * `chat --json-schema <file>`: one structured answer for a script. The file holds a JSON Schema (or OpenAI's
 * `{name, schema}` wrapper, as in `response_format.json_schema`); the runner constrains decoding to it.
 */
export function readJsonSchemaFlag(path: string): ResponseFormat {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new UsageError(`--json-schema ${JSON.stringify(path)}: ${why}`, {
      hint: 'pass a file holding a JSON Schema, e.g. {"type":"object","properties":{…}}',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--json-schema ${JSON.stringify(path)} is not valid JSON: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--json-schema ${JSON.stringify(path)}: expected a JSON Schema object`);
  }
  const record = value as Record<string, unknown>;
  // OpenAI's wrapper ({name, schema, strict}) as well as a bare schema.
  if (typeof record.schema === 'object' && record.schema !== null && !Array.isArray(record.schema)) {
    const name = typeof record.name === 'string' ? record.name : undefined;
    return {
      type: 'json_schema',
      schema: record.schema as Record<string, unknown>,
      ...(name === undefined ? {} : { name }),
    };
  }
  return { type: 'json_schema', schema: record };
}
