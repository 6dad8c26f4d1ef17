/** Types for the plain-JS test GGUF generator (see index.mjs for the README). */

export type TinyGgufArch = 'gemma3' | 'gemma4';

export interface GgufValue {
  type: number;
  value: unknown;
  elementType?: number;
}

export interface TinyGgufOptions {
  /** Default `gemma3`. */
  arch?: TinyGgufArch;
  /** Same seed and options ⇒ byte-identical file. Default 1. */
  seed?: number;
  /** Where to write; default: a fresh temp directory. */
  path?: string;
  /** Default true: the file carries a Gemma chat template. `false`: a base model (no template). */
  instructionTuned?: boolean;
  /** Overrides the template; `null` removes it. */
  chatTemplate?: string | null;
  /**
   * How likely the model ends its turn: `never` (default; answers run to max tokens), `sometimes` (a few
   * dozen tokens when sampling at temperature 1), `immediately`, or a raw logit bias.
   */
  endOfTurn?: 'never' | 'sometimes' | 'immediately' | number;
  embeddingLength?: number;
  blockCount?: number;
  headCount?: number;
  headCountKv?: number;
  headDim?: number;
  feedForwardLength?: number;
  /** `<arch>.context_length` (training context). Default 8192. */
  contextLength?: number;
  slidingWindow?: number;
  /** Matrix storage type. Default `f16`. */
  dtype?: 'f16' | 'f32';
  /** How many vocabulary words (max ~560). Default 300. */
  wordCount?: number;
  /** `general.name`. */
  name?: string;
  /** Metadata keys to leave out (malformed files). */
  omitKeys?: string[];
  /** Make the last two token strings identical (malformed files). */
  duplicateToken?: boolean;
  /** Extra metadata entries appended after the standard ones. */
  extraMetadata?: Array<[string, GgufValue]>;
  /** Claim the last tensor's data lies past the end of the file (malformed files). */
  tensorOffsetOutOfFile?: boolean;
}

export function buildTinyGguf(options?: TinyGgufOptions): Buffer;
export function writeTinyGguf(options?: TinyGgufOptions): Promise<string>;
export function tinyGgufDir(): string;
export function tinyVocabulary(options?: { wordCount?: number }): string[];

export type MalformedKind =
  | 'empty'
  | 'text'
  | 'bad-magic'
  | 'bad-version'
  | 'truncated-header'
  | 'truncated-data'
  | 'tensor-count'
  | 'kv-count'
  | 'string-length'
  | 'missing-key'
  | 'unsupported-architecture'
  | 'duplicate-token'
  | 'tensor-out-of-file';

export const MALFORMED_KINDS: readonly MalformedKind[];
export function buildMalformedGguf(options: {
  kind: MalformedKind;
  arch?: TinyGgufArch;
  seed?: number;
}): Buffer;
export function writeMalformedGguf(options: {
  kind: MalformedKind;
  arch?: TinyGgufArch;
  seed?: number;
  path?: string;
}): Promise<string>;

export const GEMMA3_CHAT_TEMPLATE: string;
export const GEMMA4_CHAT_TEMPLATE: string;
export const SPECIAL_TOKENS: Readonly<
  Record<
    'pad' | 'eos' | 'bos' | 'unk' | 'startOfTurn' | 'endOfTurn' | 'turnOpen' | 'turnClose',
    { id: number; text: string }
  >
>;

export const GgufType: Readonly<Record<string, number>>;
export const GgmlType: Readonly<{ F32: number; F16: number }>;
export function kv(type: string, value: unknown): GgufValue;
export function kvArray(elementType: string, values: unknown[]): GgufValue;
export function encodeGguf(model: {
  metadata: Array<[string, GgufValue]>;
  tensors: Array<{ name: string; dims: number[]; type: number; data: ArrayLike<number>; offset?: number }>;
}): Buffer;
