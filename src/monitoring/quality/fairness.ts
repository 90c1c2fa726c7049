// Group fairness of a classifier over one sensitive attribute, with Fairlearn's definitions: selection rate,
// demographic parity difference and ratio, and equalized odds difference (agg='between_groups').
//
// Where Fairlearn would divide by nothing the report says null instead. Fairlearn's true and false positive
// rates come from sklearn's confusion_matrix(normalize='true'), which turns 0/0 into 0: a group with no
// actual positive would read as TPR 0 and could alone make the equalized odds difference large. Here such a
// group's TPR is null and it is left out of the TPR difference (likewise FPR for a group with no negative).
import { groupBySlice, labelKey } from './labelled-metrics.js';
import type { LabelValue, LabelledRecord } from './labelled-metrics.js';

export interface FairnessGroup {
  value: string;
  count: number;
  /** Share of the group predicted positive. */
  selection_rate: number;
  /** TP / (TP + FN); null when the group has no actual positive. */
  true_positive_rate: number | null;
  /** FP / (FP + TN); null when the group has no actual negative. */
  false_positive_rate: number | null;
}

export interface FairnessReport {
  attribute: string;
  /** Records given, including those without the attribute. */
  count: number;
  /** Records without the attribute, which are in no group. */
  missing: number;
  /** One per observed value, in code-unit order. */
  groups: FairnessGroup[];
  /** max − min selection rate; null without groups. */
  demographic_parity_difference: number | null;
  /** min / max selection rate (disparate impact); 1 when no group selects anyone (0/0: at parity); null without groups. */
  demographic_parity_ratio: number | null;
  /** max − min TPR over the groups where it is defined (Fairlearn's equal_opportunity_difference); null when none. */
  true_positive_rate_difference: number | null;
  /** max − min FPR over the groups where it is defined; null when none. */
  false_positive_rate_difference: number | null;
  /** The larger of the two differences; null when either is null (no positive or no negative label at all). */
  equalized_odds_difference: number | null;
}

/** [min, max] of the non-null values, or null when there are none. */
function extent(values: readonly (number | null)[]): [number, number] | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v === null) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : null;
}

function spread(values: readonly (number | null)[]): number | null {
  const range = extent(values);
  return range && range[1] - range[0];
}

/** Fairness of `records` across the values of slice attribute `attribute`; labels compare as in labelKey. */
export function fairness(records: readonly LabelledRecord[], attribute: string, opts: { positive: LabelValue }): FairnessReport {
  const positive = labelKey(opts.positive);
  const { groups: grouped, missing } = groupBySlice(records, attribute);
  const groups: FairnessGroup[] = grouped.map(([value, members]) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    for (const r of members) {
      const predicted = labelKey(r.prediction) === positive;
      if (labelKey(r.label) === positive) {
        if (predicted) tp++;
        else fn++;
      } else if (predicted) fp++;
      else tn++;
    }
    return {
      value,
      count: members.length,
      selection_rate: (tp + fp) / members.length,
      true_positive_rate: tp + fn === 0 ? null : tp / (tp + fn),
      false_positive_rate: fp + tn === 0 ? null : fp / (fp + tn),
    };
  });
  const rates = extent(groups.map((g) => g.selection_rate));
  const tprDifference = spread(groups.map((g) => g.true_positive_rate));
  const fprDifference = spread(groups.map((g) => g.false_positive_rate));
  return {
    attribute,
    count: records.length,
    missing,
    groups,
    demographic_parity_difference: rates && rates[1] - rates[0],
    demographic_parity_ratio: rates && (rates[1] === 0 ? 1 : rates[0] / rates[1]),
    true_positive_rate_difference: tprDifference,
    false_positive_rate_difference: fprDifference,
    equalized_odds_difference: tprDifference === null || fprDifference === null ? null : Math.max(tprDifference, fprDifference),
  };
}
