// What targeting conditions and routing keys can read from a request before it is decoded: headers,
// request parameters and single input values, taken straight from the parsed JSON body.
//
// Routing runs before the codec validates the body, so nothing here may throw or trust the body's shape:
// a malformed body reads as absent values and the decoder reports it afterwards. Only the first element
// of a tensor (or the first row's column of a tabular input) is read, so no tensor is walked or copied.

export interface RequestView {
  /** A header's value; names are matched lower-case, as node:http delivers them. Repeated headers are joined with ", ". */
  header(name: string): string | undefined;
  /** A request-level parameter (V2 `parameters`); V1 requests have none. */
  parameter(name: string): unknown;
  /** The first element of the input tensor of that name, or the first row's value of that feature; a string, number or boolean. */
  input(name: string): unknown;
}

type Headers = Record<string, string | string[] | undefined>;

// One object per request with the methods on the prototype, rather than three closures per request.
class BodyView implements RequestView {
  constructor(
    private readonly headers: Headers,
    private readonly body: unknown,
    private readonly protocol: 'v1' | 'v2',
    private readonly features: readonly string[] | null,
  ) {}

  header(name: string): string | undefined {
    // Compiled rules pass lower-case names already; only a caller's own name can need folding.
    return headerValue(this.headers, this.headers[name] === undefined && hasUpperCase(name) ? name.toLowerCase() : name);
  }

  parameter(name: string): unknown {
    if (this.protocol !== 'v2') return undefined;
    const body = this.body;
    if (!isRecord(body)) return undefined;
    return ownValue(body.parameters, name);
  }

  input(name: string): unknown {
    return this.protocol === 'v2' ? v2Input(this.body, name, this.features) : v1Input(this.body, name, this.features);
  }
}

/** A header's value by its lower-case name; a repeated header (an array) is, per RFC 9110 §5.3, the comma-joined list. */
export function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.length === 1 ? v[0] : v.join(', ');
  return undefined;
}

/**
 * A read-only view of a request for routing. `features` are the feature names, in column order, of a
 * tabular model's single 2-D input (null for other models): they let a condition name a column.
 */
export function requestView(
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
  protocol: 'v1' | 'v2',
  features: readonly string[] | null,
): RequestView {
  return new BodyView(headers, body, protocol, features);
}

/**
 * The routing key of a request: the header when the spec names one and the request sends it (non-empty),
 * else the input when the spec names one. Numbers are written in JavaScript's shortest form (1.0 → "1").
 * Undefined means no key: the request is assigned at random, not sticky.
 */
export function routingKey(spec: { header?: string; input?: string }, view: RequestView): string | undefined {
  if (spec.header !== undefined) {
    const h = view.header(spec.header);
    if (h !== undefined && h !== '') return h;
  }
  if (spec.input !== undefined) {
    const v = view.input(spec.input);
    if (typeof v === 'string') return v === '' ? undefined : v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

// V2: {"inputs": [{"name", "datatype", "shape", "data"}], "parameters"?}
function v2Input(body: unknown, name: string, features: readonly string[] | null): unknown {
  if (!isRecord(body)) return undefined;
  const inputs = body.inputs;
  if (!Array.isArray(inputs)) return undefined;
  for (let i = 0; i < inputs.length; i++) {
    const t: unknown = inputs[i];
    if (isRecord(t) && t.name === name) return firstElement(t.data);
  }
  if (features === null || inputs.length !== 1) return undefined;
  const col = features.indexOf(name);
  if (col < 0) return undefined;
  const t: unknown = inputs[0];
  if (!isRecord(t)) return undefined;
  const data = t.data;
  if (!Array.isArray(data) || data.length === 0) return undefined;
  const first: unknown = data[0];
  if (Array.isArray(first)) return scalar(first[col]);
  // Flat data is row-major, so column `col` of row 0 is at `col` only when a row is exactly the features.
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || shape[1] !== features.length) return undefined;
  return scalar(data[col]);
}

// V1: {"instances": [{feature: value, …} | [value, …], …]}
function v1Input(body: unknown, name: string, features: readonly string[] | null): unknown {
  if (!isRecord(body)) return undefined;
  const instances = body.instances;
  if (!Array.isArray(instances) || instances.length === 0) return undefined;
  const row: unknown = instances[0];
  if (Array.isArray(row)) {
    if (features === null) return undefined;
    const col = features.indexOf(name);
    return col < 0 ? undefined : scalar(row[col]);
  }
  return scalar(ownValue(row, name));
}

/** The first scalar of flat or nested data: data[0], data[0][0], … */
function firstElement(data: unknown): unknown {
  let v = data;
  // Bounded so a hostile, deeply nested body costs no more than a realistic tensor rank.
  for (let depth = 0; depth < 32 && Array.isArray(v); depth++) {
    if (v.length === 0) return undefined;
    v = v[0];
  }
  return scalar(v);
}

function scalar(v: unknown): unknown {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

/** obj[name] when obj is an object that has it as its own property: "constructor" must not find Object.prototype's. */
function ownValue(obj: unknown, name: string): unknown {
  return isRecord(obj) && Object.hasOwn(obj, name) ? obj[name] : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasUpperCase(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}
