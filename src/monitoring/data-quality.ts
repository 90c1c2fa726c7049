// Data quality at the gateway: each decoded input value checked against the version's reference profile
// before the model runs. Missing values (NaN), numbers outside the reference range widened by a tolerance,
// and categories the reference never saw. Compiled once per version into flat arrays, so a request costs
// two comparisons a value.
import type { ReferenceProfile } from '../registry/profile/types.js';
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
 * The check for a tabular version: `features` in tensor column order (the version's recorded order), `input`
 * its single 2-D input. Features the profile does not know are not checked. Undefined when nothing can be.
 */
export function compileQualityCheck(profile: ReferenceProfile, features: readonly string[] | null, input: string | undefined, tolerance: number): QualityCheck | undefined {
  if (!features || input === undefined) return undefined;
  const byName = new Map(profile.features.map((f) => [f.name, f]));
  const columns: QualityCheck['columns'] = [];
  for (const [index, name] of features.entries()) {
    const f = byName.get(name);
    if (!f) continue;
    if (f.type === 'numerical') {
      if (f.min === null || f.max === null) continue;
      const pad = (f.max - f.min) * tolerance;
      columns.push({ index, name, lo: f.min - pad, hi: f.max + pad, categories: null });
    } else if (f.otherCount === 0) {
      // Only a complete category list can say a value was never seen.
      columns.push({ index, name, lo: Number.NaN, hi: Number.NaN, categories: new Set(f.categories.map((c) => c.value)) });
    }
  }
  return columns.length === 0 ? undefined : { input, width: features.length, columns };
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
