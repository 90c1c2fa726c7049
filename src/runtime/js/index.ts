// The js runtime: ES-module models that run in a worker thread. See README.md in this folder.
export { createJsRuntime, JS_RUNTIME_POLICY } from './js-runtime.js';
export { readJsModelSignature, READ_JS_SIGNATURE_DEFAULTS, type ReadJsSignatureOptions } from './read-js-signature.js';
export { normaliseJsSignature, JsSignatureError, JS_DATATYPES, type JsDatatype } from './js-signature.js';
