// The error class every user-facing failure is raised as, and its JSON wire shape.
import { randomUUID } from 'node:crypto';
import { ERROR_CODES, type ErrorCode } from './codes.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; id: string; details?: Record<string, unknown> };
}

export class ModelgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Unique per occurrence, so a user's report can be matched to the server log. */
  readonly id: string;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>, options?: { cause?: unknown; id?: string }) {
    super(message ?? ERROR_CODES[code].message, options);
    this.name = 'ModelgateError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
    this.id = options?.id ?? randomUUID();
  }

  toJSON(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        id: this.id,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

export function isModelgateError(e: unknown): e is ModelgateError {
  return e instanceof ModelgateError;
}

/** Shorthand: `throw mgError('MG_ERR_MODEL_NOT_FOUND', \`No model "${name}"\`)`. */
export function mgError(code: ErrorCode, message?: string, details?: Record<string, unknown>): ModelgateError {
  return new ModelgateError(code, message, details);
}
