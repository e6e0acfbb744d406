import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { RestError, type RestBody } from './RestApi.js';

/** Compiles JSON Schemas once and turns ajv errors into 400s that name the field. */
export class RequestValidator {
  readonly #ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: false, strict: false });
  readonly #compiled = new Map<object, ValidateFunction>();

  /** Validates (and coerces, fills defaults in) `body`; throws RestError 400. */
  check<T>(schema: object, body: RestBody): T {
    let fn = this.#compiled.get(schema);
    if (!fn) {
      fn = this.#ajv.compile(schema);
      this.#compiled.set(schema, fn);
    }
    if (!fn(body)) throw new RestError(400, 'bad_request', describe(fn.errors?.[0]));
    return body as T;
  }
}

function describe(err: ErrorObject | undefined): string {
  if (!err) return 'Invalid request';
  if (err.keyword === 'required') return `Field "${String(err.params['missingProperty'])}" is required`;
  const field = err.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'body';
  if (err.keyword === 'enum') return `Field "${field}" must be one of ${(err.params['allowedValues'] as unknown[]).join(', ')}`;
  return `Field "${field}" ${err.message ?? 'is invalid'}`;
}
