// A rollout's plan: the strategy in the deployment file compiled into concrete steps when the rollout starts,
// so editing the file later cannot change a rollout under way. Every plan ends with a promote step.
import { ModelgateError } from '../errors/index.js';
import { ms, type DeploymentSpec } from './deployment-spec.js';

export type StrategyName = 'canary' | 'blue-green' | 'shadow';

export type PlanStep =
  /** Canary share of served traffic (stable gets the rest). */
  | { kind: 'setWeight'; weight: number }
  /** Mirror this share of requests to the candidate (0 removes the shadow arm). */
  | { kind: 'shadow'; percent: number }
  /** Wait; durationMs null waits for `rollout resume` or `promote`. */
  | { kind: 'pause'; durationMs: number | null }
  /** Judge the candidate against stable over at least intervalMs of traffic. */
  | { kind: 'analysis'; intervalMs: number }
  | { kind: 'approval'; required: number }
  /** Move the production alias to the candidate; standbyMs keeps the old version loaded for a fast rollback. */
  | { kind: 'promote'; standbyMs: number };

export interface Plan {
  strategy: StrategyName;
  /** How often the candidate is judged while it takes traffic (the automatic-rollback guard). */
  analysisIntervalMs: number;
  steps: PlanStep[];
}

const DEFAULT_CANARY: NonNullable<DeploymentSpec['strategy']['canary']> = {
  analysisInterval: '30s',
  steps: [{ setWeight: 10 }, { analysis: {} }, { setWeight: 50 }, { analysis: {} }],
};

export function compilePlan(spec: DeploymentSpec, strategy: StrategyName): Plan {
  const bakeMs = ms(spec.bake);
  switch (strategy) {
    case 'canary': {
      const c = spec.strategy.canary;
      if (!c) throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STRATEGY', 'The deployment has no spec.strategy.canary. Add canary steps to the deployment file (README, "Rollouts"), or pick --strategy blue-green.');
      return { strategy, analysisIntervalMs: ms(c.analysisInterval), steps: [...canarySteps(c), { kind: 'promote', standbyMs: bakeMs }] };
    }
    case 'blue-green': {
      const b = spec.strategy.blueGreen ?? { previewPercent: 100, previewDuration: '1m', analysisInterval: '30s', approval: 0, rollbackWindow: '10m' };
      const steps: PlanStep[] = [];
      if (b.previewPercent > 0) steps.push({ kind: 'shadow', percent: b.previewPercent }, { kind: 'analysis', intervalMs: ms(b.previewDuration) });
      else steps.push({ kind: 'pause', durationMs: ms(b.previewDuration) });
      if (b.approval > 0) steps.push({ kind: 'approval', required: b.approval });
      steps.push({ kind: 'promote', standbyMs: Math.max(ms(b.rollbackWindow), bakeMs) });
      return { strategy, analysisIntervalMs: ms(b.analysisInterval), steps };
    }
    case 'shadow': {
      const s = spec.strategy.shadow ?? { percent: 100, duration: '1m' };
      const c = spec.strategy.canary ?? DEFAULT_CANARY;
      return {
        strategy,
        analysisIntervalMs: ms(c.analysisInterval),
        steps: [{ kind: 'shadow', percent: s.percent }, { kind: 'analysis', intervalMs: ms(s.duration) }, { kind: 'shadow', percent: 0 }, ...canarySteps(c), { kind: 'promote', standbyMs: bakeMs }],
      };
    }
    default:
      throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STRATEGY', `Unknown strategy "${String(strategy)}": use canary, blue-green or shadow.`);
  }
}

function canarySteps(c: NonNullable<DeploymentSpec['strategy']['canary']>): PlanStep[] {
  const interval = ms(c.analysisInterval);
  return c.steps.map((s): PlanStep => {
    if ('setWeight' in s) return { kind: 'setWeight', weight: s.setWeight };
    if ('pause' in s) return { kind: 'pause', durationMs: s.pause.duration === undefined ? null : ms(s.pause.duration) };
    if ('analysis' in s) return { kind: 'analysis', intervalMs: s.analysis.interval === undefined ? interval : ms(s.analysis.interval) };
    return { kind: 'approval', required: s.approval.required };
  });
}

export function describeStep(s: PlanStep): string {
  switch (s.kind) {
    case 'setWeight':
      return `setWeight ${s.weight}`;
    case 'shadow':
      return s.percent > 0 ? `shadow ${s.percent}%` : 'end shadow';
    case 'pause':
      return s.durationMs === null ? 'pause (until resumed)' : `pause ${Math.round(s.durationMs / 1000)}s`;
    case 'analysis':
      return `analysis ${Math.round(s.intervalMs / 1000)}s`;
    case 'approval':
      return `approval ×${s.required}`;
    case 'promote':
      return 'promote';
  }
}
