// Business outcomes carried by feedback (a conversion, a refund and its amount) added up per version, arm and
// outcome name, and set against the predictions each arm served: what the judge reads as 'outcome:<name>'.
// Pure; the caller reads feedback and prediction counts from their stores.

export interface OutcomeEvent {
  name: string;
  /** An amount (revenue, minutes watched); absent for events that only happen. */
  value?: number | null | undefined;
}

/** The outcome events of one prediction's feedback. */
export interface OutcomeFeedback {
  version: number;
  arm: string;
  events: readonly OutcomeEvent[];
}

/** Predictions served by one arm; rows for the same (version, arm) add up (one per replica or window). */
export interface ArmPredictionCount {
  version: number;
  arm: string;
  predictions: number;
}

export interface OutcomeSummary {
  version: number;
  arm: string;
  name: string;
  /** Events of this name. */
  count: number;
  /** Feedback records with at least one event of this name. */
  records: number;
  /** Events that carried a value. */
  valued: number;
  /** Sum of the values (0 when none carried one). */
  sum: number;
  /** sum / valued; null when no event carried a value. */
  mean_value: number | null;
  /** Predictions served by the arm; null when no count was given for it. */
  predictions: number | null;
  /** Events per prediction (count / predictions); null without a positive prediction count. */
  rate: number | null;
  /** Share of predictions with at least one such event (records / predictions); null likewise. */
  record_rate: number | null;
}

interface Accumulator {
  count: number;
  records: number;
  valued: number;
  sum: number;
}

const SEP = '\u0000';

function checkGroup(version: number, arm: string, where: string): string {
  if (!Number.isInteger(version)) throw new Error(`${where}: version must be an integer, got ${String(version)}`);
  if (typeof arm !== 'string' || arm === '') throw new Error(`${where}: arm must be a non-empty string, got ${JSON.stringify(arm)}`);
  return `${version}${SEP}${arm}`;
}

/**
 * One row per (version, arm, name) for every (version, arm) seen in `feedback` or `predictions` and every
 * name seen in any event or listed in opts.names, zero rows included: an arm that saw no conversion reads as
 * rate 0, not as missing evidence. Rows are ordered by version, arm and name. Rates are not capped: a
 * record_rate above 1 means the prediction count covers less than the feedback does (a shorter window).
 */
export function aggregateOutcomes(
  feedback: readonly OutcomeFeedback[],
  predictions: readonly ArmPredictionCount[] = [],
  opts: { names?: readonly string[] } = {},
): OutcomeSummary[] {
  const groups = new Map<string, { version: number; arm: string; predictions: number | null; names: Map<string, Accumulator> }>();
  const group = (version: number, arm: string, where: string) => {
    const key = checkGroup(version, arm, where);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { version, arm, predictions: null, names: new Map() }));
    return g;
  };
  const names = new Set<string>();
  for (const name of opts.names ?? []) {
    if (typeof name !== 'string' || name === '') throw new Error(`opts.names: an outcome name must be a non-empty string, got ${JSON.stringify(name)}`);
    names.add(name);
  }
  predictions.forEach((p, i) => {
    const g = group(p.version, p.arm, `predictions[${i}]`);
    if (!(Number.isInteger(p.predictions) && p.predictions >= 0)) {
      throw new Error(`predictions[${i}]: predictions must be a whole number >= 0, got ${String(p.predictions)}`);
    }
    g.predictions = (g.predictions ?? 0) + p.predictions;
  });
  feedback.forEach((f, i) => {
    const g = group(f.version, f.arm, `feedback[${i}]`);
    const seen = new Set<string>();
    f.events.forEach((e, j) => {
      const where = `feedback[${i}].events[${j}]`;
      if (typeof e.name !== 'string' || e.name === '') throw new Error(`${where}: an outcome name must be a non-empty string, got ${JSON.stringify(e.name)}`);
      if (e.value != null && !Number.isFinite(e.value)) throw new Error(`${where}: value must be a finite number when given, got ${String(e.value)}`);
      names.add(e.name);
      let acc = g.names.get(e.name);
      if (!acc) g.names.set(e.name, (acc = { count: 0, records: 0, valued: 0, sum: 0 }));
      acc.count++;
      if (!seen.has(e.name)) {
        seen.add(e.name);
        acc.records++;
      }
      if (e.value != null) {
        acc.valued++;
        acc.sum += e.value;
      }
    });
  });
  const sortedNames = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sortedGroups = [...groups.values()].sort((a, b) => a.version - b.version || (a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : 0));
  const out: OutcomeSummary[] = [];
  for (const g of sortedGroups) {
    const per = g.predictions !== null && g.predictions > 0 ? g.predictions : null;
    for (const name of sortedNames) {
      const acc = g.names.get(name) ?? { count: 0, records: 0, valued: 0, sum: 0 };
      if (!Number.isFinite(acc.sum)) throw new Error(`the values of ${JSON.stringify(name)} for version ${g.version}, arm ${g.arm} add up beyond a finite number`);
      out.push({
        version: g.version,
        arm: g.arm,
        name,
        count: acc.count,
        records: acc.records,
        valued: acc.valued,
        sum: acc.sum,
        mean_value: acc.valued === 0 ? null : acc.sum / acc.valued,
        predictions: g.predictions,
        rate: per === null ? null : acc.count / per,
        record_rate: per === null ? null : acc.records / per,
      });
    }
  }
  return out;
}
