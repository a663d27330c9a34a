/**
 * Typed reads from an untrusted JSON value. Every read knows its path, so a wrong shape becomes a
 * `MalformedWebhookError` that says exactly which field is wrong and what was expected.
 */
import { MalformedWebhookError } from './errors.js';

type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value}`;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value found at `path` inside a webhook body. */
export class Field {
  constructor(
    readonly value: unknown,
    readonly path: string,
  ) {}

  /** The child `key`; reading a child of a non-object fails with the parent's path. */
  get(key: string): Field {
    const obj = this.object();
    const path = this.path === '' ? key : `${this.path}.${key}`;
    return new Field(Object.hasOwn(obj, key) ? obj[key] : undefined, path);
  }

  /** True when the value is neither absent nor null. */
  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  get isObject(): boolean {
    return isObject(this.value);
  }

  object(): JsonObject {
    if (!isObject(this.value)) throw this.fail(`expected an object, got ${describe(this.value)}`);
    return this.value;
  }

  string(): string {
    if (typeof this.value !== 'string') throw this.fail(`expected a string, got ${describe(this.value)}`);
    return this.value;
  }

  /** A string that must not be empty. */
  nonEmpty(): string {
    const s = this.string();
    if (s.trim() === '') throw this.fail('expected a non-empty string');
    return s;
  }

  /** A string, or undefined when absent or null. */
  optString(): string | undefined {
    return this.present ? this.string() : undefined;
  }

  /** A string, number or boolean rendered as a string; undefined when absent or null. */
  optScalar(): string | undefined {
    if (!this.present) return undefined;
    if (typeof this.value === 'number' || typeof this.value === 'boolean') return String(this.value);
    return this.string();
  }

  /** The elements, each with its indexed path. */
  array(): Field[] {
    if (!Array.isArray(this.value)) throw this.fail(`expected an array, got ${describe(this.value)}`);
    return this.value.map((v, i) => new Field(v, `${this.path}[${i}]`));
  }

  /** A `MalformedWebhookError` located at this field. */
  fail(message: string): MalformedWebhookError {
    return new MalformedWebhookError(message, this.path === '' ? 'body' : this.path);
  }
}

/** Parse the raw body; anything but a JSON object is malformed. */
export function parseJsonBody(body: string, what = 'body'): Field {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new MalformedWebhookError(
      `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      what,
    );
  }
  if (!isObject(value))
    throw new MalformedWebhookError(`expected a JSON object, got ${describe(value)}`, what);
  return new Field(value, '');
}
