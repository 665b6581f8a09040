import type { Context } from 'hono';
import type { z } from 'zod';
import { InvalidError } from '../../core/errors.js';
import type { ApiEnv } from './context.js';

/** Parse and validate a JSON body; bad JSON is a 400 like any invalid body. */
export async function body<T extends z.ZodType>(c: Context<ApiEnv>, schema: T): Promise<z.infer<T>> {
  return schema.parse(await jsonBody(c));
}

/** A JSON body, not yet validated. */
export async function jsonBody(c: Context<ApiEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new InvalidError('request body is not valid JSON');
  }
}

export function query<T extends z.ZodType>(c: Context<ApiEnv>, schema: T): z.infer<T> {
  return schema.parse(c.req.query());
}
