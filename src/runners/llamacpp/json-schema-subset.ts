import { UsageError } from '../../core/errors.js';

/**
 * The JSON Schema subset node-llama-cpp turns into a grammar. It ignores what it does not know (a `pattern`, a
 * `minimum`, a `$ref` outside `$defs`) and would then let through JSON the schema forbids, so a schema that uses
 * anything else is refused here, naming the keyword and where it is. Annotations (title, description, examples,
 * default, $schema, $id) are accepted and dropped; `anyOf` is read as `oneOf` (a value matching one alternative
 * satisfies both).
 */

const STRUCTURAL = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'enum',
  'const',
  'oneOf',
  'format',
  '$defs',
  '$ref',
]);
const ANNOTATIONS = new Set(['title', 'description', 'examples', 'default', '$schema', '$id', '$comment']);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);
const FORMATS = new Set(['date-time', 'time', 'date']);

export const SCHEMA_PARAM = 'response_format.json_schema.schema';

/** `param`: where the schema came from, for the message (a response format, or a forced tool call's tools). */
export function grammarSchema(schema: unknown, param = SCHEMA_PARAM): Record<string, unknown> {
  return node(schema, param) as Record<string, unknown>;
}

function refuse(path: string, what: string): never {
  throw new UsageError(`${path}: ${what} cannot be enforced while decoding`, {
    code: 'invalid_response_format',
    hint: `supported: ${[...STRUCTURAL].join(', ')} (type ${[...TYPES].join('/')}; format ${[...FORMATS].join('/')}), anyOf as oneOf`,
  });
}

function node(value: unknown, path: string): unknown {
  if (typeof value === 'boolean') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    refuse(path, 'a schema that is not an object');
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (ANNOTATIONS.has(key)) {
      if (key === 'description') out[key] = child;
      continue;
    }
    if (key === 'anyOf' || key === 'oneOf') {
      if (!Array.isArray(child)) refuse(at, 'a list of schemas expected');
      out.oneOf = child.map((entry, i) => node(entry, `${at}.${i}`));
      continue;
    }
    if (!STRUCTURAL.has(key)) refuse(at, `"${key}"`);
    switch (key) {
      case 'type': {
        const types = Array.isArray(child) ? child : [child];
        for (const type of types) if (!TYPES.has(type as string)) refuse(at, `type ${JSON.stringify(type)}`);
        out[key] = child;
        break;
      }
      case 'format':
        if (!FORMATS.has(child as string)) refuse(at, `format ${JSON.stringify(child)}`);
        out[key] = child;
        break;
      case '$ref':
        if (typeof child !== 'string' || !child.startsWith('#/$defs/')) refuse(at, 'a $ref outside #/$defs/');
        out[key] = child;
        break;
      case 'properties':
      case '$defs':
        out[key] = Object.fromEntries(
          Object.entries(record(child, at)).map(([name, entry]) => [name, node(entry, `${at}.${name}`)]),
        );
        break;
      case 'items':
      case 'additionalProperties':
        out[key] = node(child, at);
        break;
      case 'prefixItems':
        if (!Array.isArray(child)) refuse(at, 'a list of schemas expected');
        out[key] = child.map((entry, i) => node(entry, `${at}.${i}`));
        break;
      default:
        out[key] = child;
    }
  }
  return out;
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) refuse(path, 'an object expected');
  return value as Record<string, unknown>;
}
