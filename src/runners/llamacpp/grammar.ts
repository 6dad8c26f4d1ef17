import type { Llama, LlamaGrammar } from 'node-llama-cpp';
import { UsageError } from '../../core/errors.js';
import type { ResponseFormat } from '../../core/model-runner.js';
import { SCHEMA_PARAM, grammarSchema } from './json-schema-subset.js';

/** Compiled grammars kept per runner: compiling a schema costs milliseconds that a repeated request need not pay. */
const MAX_CACHED = 32;

/**
 * A response format → the llama.cpp grammar that constrains sampling to it (node-llama-cpp compiles JSON
 * schemas to GBNF). A schema it cannot compile is the request's error (400 in serve), naming the field.
 */
export class GrammarCache {
  private readonly cache = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly llama: Llama) {}

  /** `param`: where the schema came from, named in a refusal (default: the response format's schema). */
  get(format: ResponseFormat, param = SCHEMA_PARAM): Promise<LlamaGrammar> {
    const key = format.type === 'json_object' ? 'json' : JSON.stringify(format.schema);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const compiled = this.compile(format, param);
    // A schema that failed to compile is not remembered: the error is the answer, every time.
    compiled.catch(() => this.cache.delete(key));
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, compiled);
    return compiled;
  }

  private async compile(format: ResponseFormat, param: string): Promise<LlamaGrammar> {
    if (format.type === 'json_object') return this.llama.getGrammarFor('json');
    // Refuses what node-llama-cpp would silently not enforce (json-schema-subset.ts).
    const schema = grammarSchema(format.schema, param);
    try {
      // node-llama-cpp's schema type is a narrow literal type; the schema arrives as plain JSON.
      return await this.llama.createGrammarForJsonSchema(schema as never);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new UsageError(`${param} cannot be used to constrain decoding: ${reason}`, {
        code: 'invalid_response_format',
      });
    }
  }
}
