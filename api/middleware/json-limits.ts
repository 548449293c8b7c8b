/**
 * Shape limits on every parsed JSON body, checked once before any handler runs: how deep it
 * nests and how many members (array elements and object members) it holds in all. The byte
 * size is express.json's limit; these bound the work a body within that size can cause in
 * validators, policy engines and serializers, which may recurse.
 */
import type { RequestHandler } from 'express';
import { VerdictError } from '../errors';
import { exceededJsonLimit, type JsonShapeLimits } from '../services/decisions/input';

/** Levels a body may add around a decision input: a batch's `{"inputs": {"id": input}}`. */
export const bodyWrapperDepth = 2;

/**
 * Deepest body accepted whatever the input limit: twice the default input limit, so an input
 * a little too deep still reaches the decision route, which names the input that is.
 */
export const minBodyDepth = 128;

/** Default most members of one body: room for any decision input that fits in 1 MiB. */
export const defaultMaxBodyMembers = 100_000;

/** The body limits that let every decision input of at most `maxInputDepth` levels through. */
export function bodyLimitsFor(maxInputDepth: number, maxMembers: number): JsonShapeLimits {
  return { maxDepth: Math.max(minBodyDepth, maxInputDepth + bodyWrapperDepth), maxMembers };
}

/** The problem a parsed JSON body causes by its shape, or undefined when it keeps the limits. */
export function shapeError(body: unknown, limits: JsonShapeLimits): VerdictError | undefined {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
  const exceeded = exceededJsonLimit(body, limits);
  if (exceeded === 'depth') {
    return new VerdictError(
      'bad_request',
      `The request body nests arrays and objects deeper than ${limits.maxDepth} levels; flatten it.`,
      { extensions: { maxDepth: limits.maxDepth } },
    );
  }
  if (exceeded === 'members') {
    const max = limits.maxMembers as number;
    return new VerdictError(
      'payload_too_large',
      `The request body holds more than ${max} array elements and object members in all; send less per request.`,
      { extensions: { maxMembers: max } },
    );
  }
  return undefined;
}

export function jsonShapeLimits(limits: JsonShapeLimits): RequestHandler {
  return (req, _res, next) => {
    next(shapeError(req.body, limits));
  };
}
