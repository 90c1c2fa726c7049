// The one table of user-facing error codes. A code is never reused for another meaning; a test keeps
// this table and docs/errors.md in agreement (regenerate the doc with `npm run docs:errors`).
// `message` is the default text: what went wrong and what to do about it. A thrown error may carry a
// more specific message naming the offending value.

export interface ErrorCodeSpec {
  readonly status: number;
  readonly message: string;
}

export const ERROR_CODES = {
  // Requests to the control API
  MG_ERR_REQUEST_INVALID: { status: 400, message: 'The request does not match the API schema. Check the field named in the message against /api/v1/openapi.json.' },
  MG_ERR_REQUEST_ROUTE_NOT_FOUND: { status: 404, message: 'No such endpoint. The control API lives under /api/v1; see /api/v1/openapi.json for the routes.' },
  MG_ERR_REQUEST_TOO_LARGE: { status: 413, message: 'The request body is larger than the configured limit (server.bodyLimit). Send a smaller body or raise the limit.' },
  MG_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The Content-Type is not accepted by this endpoint. Use application/json, or multipart/form-data for uploads.' },
  MG_ERR_REQUEST_MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON. Check quoting and trailing commas.' },
  MG_ERR_SERVER_INTERNAL: { status: 500, message: 'Modelgate failed unexpectedly. The server log has the details under this error id.' },

  // Configuration
  MG_ERR_CONFIG_INVALID: { status: 400, message: 'The configuration is invalid. Fix the setting named in the message (modelgate.yaml, MODELGATE_* variables or flags).' },
  MG_ERR_CONFIG_FILE_UNREADABLE: { status: 400, message: 'The configuration file cannot be read or is not valid YAML. Check the path given with --config and its syntax.' },

  // Authentication and authorisation
  MG_ERR_AUTH_MISSING_KEY: { status: 401, message: 'No API key was sent. Send "Authorization: Bearer <key>"; the first admin key is in $MODELGATE_HOME/admin.key.' },
  MG_ERR_AUTH_INVALID_KEY: { status: 401, message: 'The API key is unknown or revoked. Ask an admin for a key (modelgate keys create).' },
  MG_ERR_AUTH_FORBIDDEN: { status: 403, message: 'The API key\'s role does not allow this action. Use a key with the role named in the message.' },
  MG_ERR_AUTH_MODEL_OUT_OF_SCOPE: { status: 403, message: 'The API key is limited to other models. Use a key whose model patterns include this model.' },

  // API keys
  MG_ERR_KEY_NOT_FOUND: { status: 404, message: 'No API key has that id. List keys with `modelgate keys list`.' },
  MG_ERR_KEY_INVALID_ROLE: { status: 400, message: 'Unknown role. Roles are invoker, viewer, operator, approver and admin.' },
  MG_ERR_KEY_INVALID_NAME: { status: 400, message: 'A key name is 1 to 64 letters, digits, dots, dashes or underscores.' },
  MG_ERR_KEY_INVALID_PATTERN: { status: 400, message: 'A model pattern is a model name with * wildcards, e.g. fraud-*.' },
  MG_ERR_KEY_ALREADY_REVOKED: { status: 409, message: 'That key is already revoked.' },

  // Models, versions and aliases
  MG_ERR_MODEL_INVALID_NAME: { status: 400, message: 'A model name is 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.' },
  MG_ERR_MODEL_NOT_FOUND: { status: 404, message: 'No model has that name. List models with `modelgate models list`.' },
  MG_ERR_MODEL_VERSION_NOT_FOUND: { status: 404, message: 'The model has no such version. List its versions with `modelgate models show <name>`.' },
  MG_ERR_MODEL_ALIAS_NOT_FOUND: { status: 404, message: 'The model has no such alias. List aliases with `modelgate models alias list <name>`.' },
  MG_ERR_MODEL_INVALID_REF: { status: 400, message: 'A model reference is <name>, <name>@<version number> or <name>@<alias>.' },
  MG_ERR_MODEL_INVALID_ALIAS: { status: 400, message: 'An alias is 1 to 64 lower-case letters, digits, dashes or underscores, starting with a letter, and not "latest" or a number.' },
  MG_ERR_MODEL_VERSION_ARCHIVED: { status: 409, message: 'That version is archived and cannot be deployed or aliased. Register or pick another version.' },
  MG_ERR_MODEL_VERSION_ALIASED: { status: 409, message: 'An alias still points at that version. Move or unset the alias (modelgate models alias set|unset) before archiving it.' },
  MG_ERR_MODEL_PARENT_NOT_FOUND: { status: 400, message: 'The --parent version does not exist for this model. Give an existing version number or alias.' },
  MG_ERR_MODEL_INVALID_METADATA: { status: 400, message: 'Metadata is key=value pairs; keys are 1 to 128 characters of letters, digits, dots, dashes, underscores or slashes.' },
  MG_ERR_MODEL_INVALID_OWNER: { status: 400, message: 'An owner is "team" or "team <contact>", e.g. "risk-ml <risk-ml@example.com>".' },

  // Artifacts
  MG_ERR_ARTIFACT_UNREADABLE: { status: 400, message: 'The artifact file cannot be read. Check the path and permissions.' },
  MG_ERR_ARTIFACT_NOT_ONNX: { status: 400, message: 'The artifact is not an ONNX model. Export the model to ONNX (a serialized ModelProto) and register the .onnx file.' },
  MG_ERR_ARTIFACT_TRUNCATED: { status: 400, message: 'The ONNX file ends before the model does: it was cut off while copying or downloading. Copy it again and check its size.' },
  MG_ERR_ARTIFACT_NO_GRAPH: { status: 400, message: 'The ONNX model has no graph, or its graph has no inputs or outputs. Re-export the model.' },
  MG_ERR_ARTIFACT_UNSUPPORTED_FORMAT: { status: 400, message: 'That artifact format is not supported. Supported formats: onnx.' },
  MG_ERR_ARTIFACT_TOO_LARGE: { status: 413, message: 'The artifact is larger than registry.maxArtifactBytes. Raise the limit or shrink the model.' },
  MG_ERR_ARTIFACT_CORRUPTED: { status: 500, message: 'The stored artifact no longer matches its sha256: the blob was changed on disk. Restore it from backup or register the model again.' },
  MG_ERR_ARTIFACT_MISSING: { status: 500, message: 'The stored artifact is missing from the artifact store. Restore $MODELGATE_HOME/artifacts from backup.' },

  // Model cards
  MG_ERR_CARD_UNREADABLE: { status: 400, message: 'The model card cannot be read or is not valid YAML or JSON. Check the file and its syntax.' },
  MG_ERR_CARD_INVALID: { status: 400, message: 'The model card does not follow the Model Card Toolkit schema v0.0.2. Fix the fields named in the message.' },
  MG_ERR_CARD_NOT_FOUND: { status: 404, message: 'That version has no model card. Add one with `modelgate models card set <name@version> card.yaml`.' },
  MG_ERR_CARD_REVISION_NOT_FOUND: { status: 404, message: 'The card has no such revision. `modelgate models card <name@version> --history` lists them.' },

  // Reference data
  MG_ERR_REFERENCE_UNREADABLE: { status: 400, message: 'The reference data cannot be read. Give a CSV file with a header row or a JSONL file with one object per line.' },
  MG_ERR_REFERENCE_UNSUPPORTED_FORMAT: { status: 400, message: 'Reference data must be .csv or .jsonl (or .ndjson).' },
  MG_ERR_REFERENCE_TOO_LARGE: { status: 413, message: 'The reference data is larger than registry.maxReferenceBytes. Sample it down (a few hundred thousand rows profile well) or raise the limit.' },
  MG_ERR_REFERENCE_EMPTY: { status: 400, message: 'The reference data has no rows. Give the training or validation data the model was built on.' },
  MG_ERR_REFERENCE_MISSING_COLUMN: { status: 400, message: 'The reference data lacks a column the model needs. Add the column named in the message, or correct the feature list.' },
  MG_ERR_REFERENCE_NON_NUMERIC: { status: 400, message: 'A column that feeds a numeric model input holds values that are not numbers. Clean the column named in the message.' },

  // Inference (the data plane). These answer in the Open Inference Protocol's shape: {"error": message, "code", "id"}.
  MG_ERR_INFER_MALFORMED_REQUEST: { status: 400, message: 'The inference request is not valid JSON or not an Open Inference Protocol request. Send {"inputs": [{"name", "datatype", "shape", "data"}]}.' },
  MG_ERR_INFER_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Inference requests are JSON: send Content-Type: application/json.' },
  MG_ERR_INFER_BODY_TOO_LARGE: { status: 413, message: 'The inference request body is larger than server.bodyLimit. Send fewer rows per request or raise the limit.' },
  MG_ERR_INFER_UNKNOWN_INPUT: { status: 400, message: 'The request names an input the model does not have. GET /v2/models/{name} lists its inputs.' },
  MG_ERR_INFER_MISSING_INPUT: { status: 400, message: 'The request lacks an input the model needs. GET /v2/models/{name} lists its inputs.' },
  MG_ERR_INFER_DATATYPE_MISMATCH: { status: 400, message: 'An input has a different datatype than the model expects. Use the datatype listed by GET /v2/models/{name}.' },
  MG_ERR_INFER_UNSUPPORTED_DATATYPE: { status: 400, message: 'That datatype cannot be sent as JSON to this model (FP16 and BF16 need the binary extension, which is not supported). Convert the input to FP32.' },
  MG_ERR_INFER_SHAPE_MISMATCH: { status: 400, message: 'An input\'s shape does not fit the model\'s signature. Fixed dimensions must match; named ones may vary.' },
  MG_ERR_INFER_DATA_LENGTH: { status: 400, message: 'An input\'s data holds a different number of elements than its shape says. The count must equal the product of the shape.' },
  MG_ERR_INFER_INVALID_VALUE: { status: 400, message: 'An input holds a value its datatype cannot represent (not a number, NaN or Infinity, out of range, or not a string for BYTES). Fix the element named in the message.' },
  MG_ERR_INFER_UNKNOWN_OUTPUT: { status: 400, message: 'The request asks for an output the model does not have. GET /v2/models/{name} lists its outputs.' },
  MG_ERR_INFER_V1_UNSUPPORTED: { status: 400, message: 'This model has no recorded feature order, so it cannot take V1 instances by feature name. Use the V2 endpoint, or register the model with --features.' },
  MG_ERR_INFER_MODEL_NOT_FOUND: { status: 404, message: 'No model or deployment of that name is served here. GET /v2/models/{name} must name a registered model.' },
  MG_ERR_INFER_NO_PRODUCTION_ALIAS: { status: 404, message: 'The model has no production alias, so it is not served. Set one: modelgate models alias set <name> production <version>.' },
  MG_ERR_INFER_VERSION_NOT_SERVABLE: { status: 404, message: 'That version does not exist or is archived; archived versions are never served.' },
  MG_ERR_INFER_MODEL_NOT_READY: { status: 503, message: 'The model version is still loading or failed to load. Retry shortly; GET /v2/models/{name}/ready tells when it is ready.' },
  MG_ERR_INFER_QUEUE_FULL: { status: 503, message: 'The model\'s request queue is full. Retry after the Retry-After delay, or scale out.' },
  MG_ERR_INFER_DEADLINE_EXCEEDED: { status: 504, message: 'The request waited or ran longer than its deadline. Retry later, or raise serving.requestTimeoutMs.' },
  MG_ERR_INFER_SHUTTING_DOWN: { status: 503, message: 'The server is shutting down and takes no new requests. Retry against another replica.' },
  MG_ERR_INFER_RUNTIME_FAILED: { status: 500, message: 'The model failed while computing the prediction. The server log has the details under this error id.' },

  // Runtimes
  MG_ERR_RUNTIME_LOAD_FAILED: { status: 500, message: 'The model could not be loaded by its runtime. The message says why; the previously served version keeps serving.' },
  MG_ERR_RUNTIME_JS_INVALID_MODULE: { status: 400, message: 'The js model is not a valid ES module exporting `signature` and `predict`. See README, "JavaScript models".' },
  MG_ERR_RUNTIME_JS_CRASHED: { status: 500, message: 'The js model\'s worker crashed (an exception or out of memory). Its requests fail; the gateway keeps running and restarts the worker.' },
  MG_ERR_RUNTIME_JS_TIMEOUT: { status: 504, message: 'The js model did not answer within runtime.js.timeoutMs; its worker was restarted.' },

  // Deployments, rollouts and release freezes
  MG_ERR_DEPLOYMENT_FILE_UNREADABLE: { status: 400, message: 'The deployment file cannot be read or is not valid YAML or JSON. Check the path given with -f and its syntax.' },
  MG_ERR_DEPLOYMENT_INVALID: { status: 400, message: 'The Deployment does not follow the modelgate/v1 schema. Fix the field named in the message (README, "Deployments").' },
  MG_ERR_DEPLOYMENT_NOT_FOUND: { status: 404, message: 'No deployment has that name. List deployments with `modelgate deployments list`, or create one with `modelgate apply -f`.' },
  MG_ERR_DEPLOYMENT_ROLLOUT_ACTIVE: { status: 409, message: 'A rollout is changing this deployment\'s traffic. Wait for it to finish, or abort it (modelgate rollout abort <deployment>), before changing the arms or deleting the deployment.' },
  MG_ERR_ROLLOUT_NOT_FOUND: { status: 404, message: 'That deployment has no rollout. Start one with `modelgate rollout start <deployment> --to <version>`.' },
  MG_ERR_ROLLOUT_IN_PROGRESS: { status: 409, message: 'A rollout is already in progress on this deployment. Follow it with `modelgate rollout status`, or abort it first.' },
  MG_ERR_ROLLOUT_INVALID_TARGET: { status: 400, message: 'That version cannot be rolled out here: it must exist, be active, belong to the deployment\'s model and differ from the stable version.' },
  MG_ERR_ROLLOUT_INVALID_STRATEGY: { status: 400, message: 'The deployment has no such strategy configured. Add spec.strategy.canary, blueGreen or shadow (with canary steps) to the deployment file.' },
  MG_ERR_ROLLOUT_GATES_FAILED: { status: 409, message: 'The candidate fails readiness gates. `modelgate rollout check <deployment> --to <version>` lists them; fix them, or let an approver override with a reason.' },
  MG_ERR_ROLLOUT_FROZEN: { status: 409, message: 'Releases are frozen. Lift the freeze (modelgate freeze lift), or let an approver override it with --override-freeze "<reason>".' },
  MG_ERR_ROLLOUT_INVALID_STATE: { status: 409, message: 'The rollout is not in a phase that allows this action. `modelgate rollout status <deployment>` shows its phase.' },
  MG_ERR_ROLLOUT_APPROVAL_REFUSED: { status: 403, message: 'This approval does not count: approvals need an approver key other than the rollout\'s creator, once per step.' },
  MG_ERR_HISTORY_INVALID_TIME: { status: 400, message: 'The time is not an ISO 8601 timestamp. Write e.g. 2026-12-01T09:30:00Z.' },

  // Monitoring
  MG_ERR_DRIFT_INVALID: { status: 400, message: 'The drift comparison cannot run on these data: the message says which column or option is at fault. Make both files share the reference\'s columns, or pick them with --columns.' },
  MG_ERR_FEEDBACK_INVALID: { status: 400, message: 'The feedback is not valid: the message names the item and field. Send {requestId, row?, label?, outcomes?, at?} or {items: [...]} (README, "Labels and outcomes").' },
  MG_ERR_MONITORING_INVALID_QUERY: { status: 400, message: 'The monitoring query is invalid: the message names the parameter. Windows are durations such as 15m, 1h or 7d.' },
  MG_ERR_INFER_DATA_QUALITY: { status: 400, message: 'The request fails the deployment\'s data-quality checks (a missing value, a value outside the reference range, or an unseen category); the message names the feature. Fix the input, or ask the operator to set spec.monitoring.dataQuality.action to allow.' },
  MG_ERR_PRIVACY_INVALID: { status: 400, message: 'The erase request is invalid. Give the subject key exactly as requests carried it: modelgate privacy erase --subject <key>.' },

  // SLOs
  MG_ERR_SLO_INVALID: { status: 400, message: 'The SLO file is invalid. Fix the field named in the message (apiVersion: modelgate/v1, kind: SLO, spec.deployment, spec.sli, spec.objective between 0 and 1, spec.window of at least 1h).' },
  MG_ERR_SLO_NOT_FOUND: { status: 404, message: 'No SLO has that name. List SLOs with `modelgate slo list`, or create one with `modelgate slo apply -f`.' },

  // Alerts, incidents, reviews
  MG_ERR_ALERT_NOT_FOUND: { status: 404, message: 'No alert has that id. List alerts with `modelgate alerts list`.' },
  MG_ERR_ALERT_INVALID: { status: 400, message: 'The alert request is invalid: the message names the field.' },
  MG_ERR_ALERT_INVALID_STATE: { status: 409, message: 'The alert is not in a state that allows this (a resolved alert cannot be acknowledged).' },
  MG_ERR_SILENCE_INVALID: { status: 400, message: 'The silence is invalid: give a duration (or an end time after its start), a reason, and at least one matcher or --all.' },
  MG_ERR_SILENCE_NOT_FOUND: { status: 404, message: 'No silence has that id. List them with `modelgate alerts silences`.' },
  MG_ERR_INCIDENT_NOT_FOUND: { status: 404, message: 'No incident has that id. List incidents with `modelgate incidents list`.' },
  MG_ERR_INCIDENT_INVALID_STATE: { status: 409, message: 'The incident is not in a state that allows this (a resolved incident cannot be acknowledged or resolved again).' },
  MG_ERR_REVIEW_NOT_FOUND: { status: 404, message: 'No review has that id. List the queue with `modelgate reviews list`.' },
  MG_ERR_REVIEW_ALREADY_DECIDED: { status: 409, message: 'This review has been decided already; a decision is final (send a correcting label with `modelgate feedback` instead).' },
  MG_ERR_REVIEW_INVALID: { status: 400, message: 'The review decision is invalid: send a label (a number or a string).' },

  // Degradation
  MG_ERR_FALLBACK_UNAVAILABLE: { status: 409, message: 'The deployment has no fallback chain (spec.resilience.fallback). Add one and apply the deployment, then switch to it.' },
  MG_ERR_INFER_CIRCUIT_OPEN: { status: 503, message: 'The version\'s circuit breaker is open after repeated failures and no fallback answered. Retry later.' },

  // Store
  MG_ERR_STORE_UNAVAILABLE: { status: 503, message: 'The database cannot be reached. Check MODELGATE_DATABASE_URL and that the server is running.' },
  MG_ERR_STORE_MIGRATION_FAILED: { status: 500, message: 'A database migration failed; nothing was changed. The message names the migration.' },
  MG_ERR_STORE_CONFLICT: { status: 409, message: 'Another change to the same object happened at the same time. Retry the operation.' },

  // Audit
  MG_ERR_AUDIT_INVALID_QUERY: { status: 400, message: 'Invalid audit query. --limit is 1 to 1000; --since is an ISO 8601 time.' },

  // CLI
  MG_ERR_CLI_USAGE: { status: 400, message: 'The command line is incomplete or wrong. Run the command with --help for its usage.' },
  MG_ERR_CLI_SERVER_UNREACHABLE: { status: 503, message: 'The Modelgate server named by --url or MODELGATE_URL cannot be reached. Check the URL, or leave it unset to work on the local store.' },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
