// Data quality at the gateway: each decoded input value checked against the version's reference profile
// before the model runs. Missing values (NaN), numbers outside the reference range widened by a tolerance,
// and categories the reference never saw. Compiled once per version into flat arrays, so a request costs
// two comparisons a value.
import type { ReferenceProfile } from '../registry/profile/types.js';
import type { ProfileLayout } from './profile/profile.js';
import type { TensorMap } from '../runtime/types.js';

export type QualityIssueKind = 'missing' | 'out_of_range' | 'unseen_category';

export interface QualityIssue {
  feature: string;
  kind: QualityIssueKind;
  row: number;
  value: number | null;
}

export interface QualityCheck {
  /** The input tensor the columns are read from ([rows, features]). */
  input: string;
  width: number;
  /** Per checked column: its index in the tensor row, feature name, bounds (NaN when not numeric) and category set. */
  columns: { index: number; name: string; lo: number; hi: number; categories: ReadonlySet<string> | null }[];
}

/**
 * The check for a tabular version, read off the layout its profiles are folded with (whose numerical bounds are
 * already the reference range widened by the deployment's tolerance, and whose categories are the reference's):
 * `columns[i]` is layout feature i's column in the `width`-wide input tensor `input`, -1 when it is not an
 * input. A categorical feature is checked only when the reference listed all its categories. Undefined when
 * nothing can be checked.
 */
export function compileQualityCheck(layout: ProfileLayout, columns: Int32Array, width: number, input: string | undefined, profile: ReferenceProfile | null): QualityCheck | undefined {
  if (input === undefined || !profile) return undefined;
  const complete = new Set(profile.features.filter((f) => f.type === 'categorical' && f.otherCount === 0).map((f) => f.name));
  const checked: QualityCheck['columns'] = [];
  for (const [i, f] of layout.features.entries()) {
    const index = columns[i]!;
    if (index < 0 || !f.reference) continue;
    if (f.kind === 'numerical') {
      if (f.low !== null && f.high !== null) checked.push({ index, name: f.name, lo: f.low, hi: f.high, categories: null });
    } else if (complete.has(f.name)) {
      checked.push({ index, name: f.name, lo: Number.NaN, hi: Number.NaN, categories: new Set(f.categories) });
    }
  }
  return checked.length === 0 ? undefined : { input, width, columns: checked };
}

/** The issues in one request's inputs, at most `limit` of them; empty when the request is clean. */
export function checkInputs(check: QualityCheck, inputs: TensorMap, limit = 10): QualityIssue[] {
  const t = inputs[check.input];
  if (!t || t.shape.length !== 2 || t.shape[1] !== check.width || typeof t.data[0] === 'string') return [];
  const data = t.data as ArrayLike<number | bigint>;
  const rows = t.shape[0]!;
  const issues: QualityIssue[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * check.width;
    for (const c of check.columns) {
      const raw = data[base + c.index]!;
      const v = typeof raw === 'bigint' ? Number(raw) : raw;
      let kind: QualityIssueKind | undefined;
      if (Number.isNaN(v)) kind = 'missing';
      else if (c.categories !== null) {
        if (!c.categories.has(String(v))) kind = 'unseen_category';
      } else if (v < c.lo || v > c.hi) kind = 'out_of_range';
      if (kind !== undefined) {
        issues.push({ feature: c.name, kind, row: r, value: Number.isNaN(v) ? null : v });
        if (issues.length >= limit) return issues;
      }
    }
  }
  return issues;
}

/** "temp_max out_of_range (row 0: 71.5)" for messages and the x-modelgate-data-quality header. */
export function describeIssues(issues: readonly QualityIssue[]): string {
  return issues.map((i) => `${i.feature} ${i.kind}${i.value !== null ? ` (row ${i.row}: ${Math.round(i.value * 1e4) / 1e4})` : ` (row ${i.row})`}`).join(', ');
}
