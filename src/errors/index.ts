export { ERROR_CODES, type ErrorCode, type ErrorCodeSpec } from './codes.js';
export { ModelgateError, isModelgateError, mgError, type ErrorBody } from './modelgate-error.js';
