// The rollout controller: every rollout.tickMs it reads the live rollouts from the store and moves each one
// along its plan (weights, shadows, pauses, analysis, approvals, promotion, the bake after it), judging the
// candidate every analysis interval and rolling back on its own when the judge fails it. All its state is in
// the store, so it resumes after a restart; transitions are revision-checked, so no step is applied twice.
import type { Logger } from 'pino';
import type { Store } from '../store/database.js';
import { judgeCanary, type ArmObservation, type JudgeConfig, type JudgeResult, type ModelMetricObservation } from './analysis/judge.js';
import { readArmWindow, type ArmWindow } from './arm-stats.js';
import { ms, type DeploymentSpec } from './deployment-spec.js';
import type { RolloutMetrics } from './rollout-metrics.js';
import { describeStep } from './rollout-plan.js';
import { labelDistributionDivergence } from './traffic/shadow-compare.js';
import { rollbackPromoted } from './rollout-service.js';
import { activeFreeze, approversOf, currentArms, loadLiveRollouts, movePromotionAliases, stableOnly, stableServing, STANDBY_ARM, transition, withCanary, withShadow, type AnalysisRecord, type Baseline, type RolloutRow, type Transition } from './rollout-store.js';

const CONTROLLER = 'system:rollout-controller';
/** Steps that take no time (weights, shadows) are chained in one tick, up to this many. */
const MAX_STEPS_PER_TICK = 16;
const BASELINE_SAMPLES = 5000;

export interface RolloutControllerDeps {
  store: Store;
  logger: Logger;
  tickMs: number;
  /** Loads a version in this process before traffic moves to it; rejects when it cannot load. */
  prepare?: (model: string, version: number) => Promise<void>;
  /** Makes the gateway see a traffic change now rather than at its next poll; awaited, so the next step starts from it. */
  onTrafficChange?: () => Promise<void> | void;
  /** Written to before judging, so the window includes what this process has seen. */
  flushStats?: () => Promise<void>;
  metrics?: RolloutMetrics;
  /** Model-quality metrics supplied by other subsystems (monitoring), by name. */
  modelMetrics?: (deployment: string, version: number, name: string, window: { from: Date; to: Date }, stableVersion: number) => Promise<{ stable: number | null; canary: number; samples: number } | null>;
}

export class RolloutController {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: RolloutControllerDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over the live rollouts. Concurrent calls share one pass. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    let rollouts: RolloutRow[];
    try {
      rollouts = await loadLiveRollouts(this.deps.store.db);
    } catch (err) {
      this.deps.logger.warn({ err }, 'rollout controller cannot read rollouts');
      return;
    }
    for (const r of rollouts) {
      this.deps.metrics?.rolloutPhase(r.deployment, r.phase, r.state.canaryWeight);
      try {
        await this.advance(r);
      } catch (err) {
        this.deps.logger.error({ err, deployment: r.deployment, rollout: r.id }, 'rollout controller failed on a rollout; it retries next tick');
      }
    }
  }

  private async apply(r: RolloutRow, t: Transition): Promise<RolloutRow | null> {
    const next = await transition(this.deps.store, r, t, CONTROLLER);
    if (next && t.traffic) {
      await this.deps.onTrafficChange?.();
      this.deps.metrics?.trafficChange(r.deployment, t.traffic.action);
    }
    if (next) this.deps.metrics?.rolloutPhase(r.deployment, next.phase, next.state.canaryWeight);
    if (next) this.deps.logger.info({ deployment: r.deployment, rollout: r.id, phase: next.phase, step: next.step, message: next.state.message }, 'rollout moved');
    return next;
  }

  private async advance(start: RolloutRow): Promise<void> {
    let r: RolloutRow | null = start;
    const spec = JSON.parse((await currentArms(this.deps.store.db, start.deployment)).spec) as DeploymentSpec;
    if (r.phase === 'Succeeded') {
      await this.bake(r, spec);
      return;
    }
    r = await this.guard(r, spec);
    for (let i = 0; r && i < MAX_STEPS_PER_TICK && !this.stopped; i++) {
      const next: RolloutRow | null | 'wait' = await this.step(r, spec);
      if (next === 'wait' || next === null) return;
      r = next;
      if (r.phase !== 'Progressing') return;
    }
  }

  /** Executes (or waits on) the current step. Returns the new row, 'wait' when nothing is due, null when lost. */
  private async step(r: RolloutRow, spec: DeploymentSpec): Promise<RolloutRow | null | 'wait'> {
    const s = r.plan.steps[r.step];
    const now = Date.now();
    const since = now - Date.parse(r.stepStartedAt);
    if (!s) return 'wait';
    if (r.phase === 'Paused' && r.state.pausedBy !== 'freeze') return 'wait';
    const { arms } = await currentArms(this.deps.store.db, r.deployment);
    const nextStep = { step: r.step + 1, newStep: true } as const;
    switch (s.kind) {
      case 'setWeight': {
        if (!(await this.ready(r))) return null;
        return this.apply(r, { ...nextStep, state: { canaryWeight: s.weight, message: `canary at ${s.weight}%` }, traffic: { arms: withCanary(arms, r.toVersion, s.weight), action: 'step', reason: `step ${r.step}: ${describeStep(s)}` }, audit: { action: 'rollout.step', details: { step: r.step, kind: s.kind, weight: s.weight } } });
      }
      case 'shadow': {
        if (s.percent > 0 && !(await this.ready(r))) return null;
        return this.apply(r, { ...nextStep, state: { shadowPercent: s.percent, message: s.percent > 0 ? `mirroring ${s.percent}% of requests to version ${r.toVersion}` : 'shadow phase over' }, traffic: { arms: withShadow(arms, r.toVersion, s.percent), action: 'step', reason: `step ${r.step}: ${describeStep(s)}` }, audit: { action: 'rollout.step', details: { step: r.step, kind: s.kind, percent: s.percent } } });
      }
      case 'pause': {
        if (s.durationMs === null) {
          if (r.phase === 'Paused') return 'wait';
          return this.apply(r, { phase: 'Paused', state: { pausedBy: 'step', message: `paused at step ${r.step} until \`rollout resume\` or \`rollout promote\`` } });
        }
        if (since < s.durationMs) return 'wait';
        return this.apply(r, { ...nextStep, state: { message: `pause of ${Math.round(s.durationMs / 1000)}s done` } });
      }
      case 'approval': {
        const approvers = await approversOf(this.deps.store.db, r.id, r.step);
        if (approvers.length >= s.required) return this.apply(r, { phase: 'Progressing', ...nextStep, state: { message: `approved by ${approvers.join(', ')}` }, audit: { action: 'rollout.step', details: { step: r.step, kind: 'approval', approvers } } });
        if (r.phase === 'AwaitingApproval') return 'wait';
        return this.apply(r, { phase: 'AwaitingApproval', state: { message: `waiting for ${s.required} approval${s.required === 1 ? '' : 's'} from approvers other than ${r.createdBy}` } });
      }
      case 'analysis': {
        const last = r.state.lastStepJudgedAt ? Date.parse(r.state.lastStepJudgedAt) : Date.parse(r.stepStartedAt);
        if (since < s.intervalMs || now - last < Math.min(s.intervalMs, r.plan.analysisIntervalMs)) return 'wait';
        const record = await this.judge(r, spec, { from: new Date(Date.parse(r.stepStartedAt)), to: new Date(now) }, 'step');
        const analyses = [...r.state.analyses, record];
        const at = new Date(now).toISOString();
        if (record.verdict === 'pass') return this.apply(r, { ...nextStep, state: { analyses, lastStepJudgedAt: null, message: `analysis passed (score ${record.score})` }, audit: { action: 'rollout.analysis', details: { step: r.step, verdict: record.verdict, score: record.score } } });
        if (record.verdict === 'fail') return this.rollBack(r, analyses, `analysis at step ${r.step} failed: ${record.reason}`);
        const deadline = ms(spec.analysis.deadline);
        if (since < deadline) return this.apply(r, { state: { analyses, lastStepJudgedAt: at, message: `analysis ${record.verdict === 'nodata' ? 'waiting for enough data' : 'marginal'}: ${record.reason}` } });
        if (record.verdict === 'nodata' && spec.analysis.onNoData === 'fail') return this.rollBack(r, analyses, `analysis at step ${r.step} had not enough data within ${spec.analysis.deadline}: ${record.reason}`);
        return this.apply(r, { phase: 'Paused', state: { analyses, lastStepJudgedAt: at, pausedBy: 'analysis', message: `analysis inconclusive after ${spec.analysis.deadline} (${record.reason}); resume, promote or abort` }, audit: { action: 'rollout.pause', details: { step: r.step, reason: 'analysis inconclusive' } } });
      }
      case 'promote': {
        const frozen = await this.frozen(r);
        if (frozen) {
          if (r.phase === 'Paused' && r.state.pausedBy === 'freeze') return 'wait';
          return this.apply(r, { phase: 'Paused', state: { pausedBy: 'freeze', message: `promotion held by a release freeze: ${frozen}` }, audit: { action: 'rollout.pause', details: { step: r.step, reason: 'release freeze' } } });
        }
        const baseline = await this.baseline(r);
        const standby = s.standbyMs > 0 ? [{ name: STANDBY_ARM, role: 'standby' as const, version: String(r.fromVersion), weight: 0 }] : [];
        return this.apply(r, {
          phase: 'Succeeded',
          step: r.plan.steps.length,
          newStep: true,
          finished: true,
          bakeUntil: s.standbyMs > 0 ? new Date(now + s.standbyMs).toISOString() : null,
          state: { pausedBy: null, canaryWeight: 0, shadowPercent: 0, baseline, message: `promoted version ${r.toVersion} to production${s.standbyMs > 0 ? `; version ${r.fromVersion} stays on standby for ${Math.round(s.standbyMs / 60_000)} min` : ''}` },
          traffic: { arms: [...stableServing(arms, r.toVersion), ...standby], action: 'promote', reason: `version ${r.toVersion} promoted` },
          extra: (trx, at) => movePromotionAliases(trx, r.model, arms, r.toVersion, CONTROLLER, at),
          audit: { action: 'rollout.promote', details: { version: r.toVersion, previous: r.fromVersion } },
        });
      }
    }
  }

  /** Loads the candidate here before it takes traffic; a candidate that cannot load fails the rollout. */
  private async ready(r: RolloutRow): Promise<boolean> {
    if (!this.deps.prepare) return true;
    try {
      await this.deps.prepare(r.model, r.toVersion);
      return true;
    } catch (err) {
      await this.rollBack(r, r.state.analyses, `version ${r.toVersion} failed to load: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * Every analysis interval while the candidate takes traffic: a failing judgement rolls back at once. Every
   * transition that changes the traffic restarts the guard's clock (lastGuardAt, set by transition()), so its
   * window never reaches back into the split before: one that did judged a canary on a share it never had.
   */
  private async guard(r: RolloutRow, spec: DeploymentSpec): Promise<RolloutRow | null> {
    if (r.state.canaryWeight <= 0 && r.state.shadowPercent <= 0) return r;
    const now = Date.now();
    const interval = r.plan.analysisIntervalMs;
    const last = r.state.lastGuardAt ? Date.parse(r.state.lastGuardAt) : Date.parse(r.stepStartedAt);
    if (now - last < interval) return r;
    const record = await this.judge(r, spec, { from: new Date(now - interval), to: new Date(now) }, 'guard');
    if (record.verdict === 'fail') {
      await this.rollBack(r, [...r.state.analyses, record], `automatic rollback: ${record.reason}`);
      return null;
    }
    return this.apply(r, { state: { lastGuardAt: new Date(now).toISOString(), analyses: [...r.state.analyses, record] } });
  }

  private async rollBack(r: RolloutRow, analyses: AnalysisRecord[], message: string): Promise<RolloutRow | null> {
    const { arms } = await currentArms(this.deps.store.db, r.deployment);
    this.deps.logger.warn({ deployment: r.deployment, rollout: r.id, toVersion: r.toVersion, reason: message }, 'rolling back');
    return this.apply(r, {
      phase: 'RolledBack',
      finished: true,
      state: { analyses, pausedBy: null, canaryWeight: 0, shadowPercent: 0, message },
      traffic: { arms: stableOnly(arms), action: 'rollback', reason: message },
      audit: { action: 'rollout.rollback', details: { step: r.step, reason: message } },
    });
  }

  /** After promotion: judge the new version against the baseline until the bake ends, then drop the standby. */
  private async bake(r: RolloutRow, spec: DeploymentSpec): Promise<void> {
    const now = Date.now();
    if (r.bakeUntil && now >= Date.parse(r.bakeUntil)) {
      const { arms } = await currentArms(this.deps.store.db, r.deployment);
      await this.apply(r, { bakeUntil: null, state: { message: `${r.state.message ?? 'promoted'}; bake ended, version ${r.fromVersion} released` }, ...(arms.some((a) => a.role === 'standby') ? { traffic: { arms: arms.filter((a) => a.role !== 'standby'), action: 'expire' as const, reason: 'bake and rollback window ended' } } : {}) });
      return;
    }
    const interval = r.plan.analysisIntervalMs;
    const last = r.state.lastGuardAt ? Date.parse(r.state.lastGuardAt) : Date.parse(r.stepStartedAt);
    if (now - last < interval || !r.state.baseline) return;
    const record = await this.judge(r, spec, { from: new Date(now - interval), to: new Date(now) }, 'bake');
    if (record.verdict === 'fail') {
      this.deps.logger.warn({ deployment: r.deployment, rollout: r.id, reason: record.reason }, 'bake analysis failed; rolling the promotion back');
      const withRecord = { ...r, state: { ...r.state, analyses: [...r.state.analyses, record] } };
      await rollbackPromoted(this.deps.store, withRecord, CONTROLLER, `automatic rollback during bake: ${record.reason}`).catch((err: unknown) => this.deps.logger.warn({ err }, 'bake rollback lost a race; retrying next tick'));
      await this.deps.onTrafficChange?.();
      return;
    }
    await this.apply(r, { state: { lastGuardAt: new Date(now).toISOString(), analyses: [...r.state.analyses, record] } });
  }

  private async frozen(r: RolloutRow): Promise<string | null> {
    const freeze = await activeFreeze(this.deps.store.db, r.deployment);
    if (!freeze) return null;
    // An approver's override counts when given after the freeze was set.
    if (r.state.overrides.some((o) => o.kind === 'freeze' && o.at >= freeze.setAt)) return null;
    return `${freeze.reason} (set by ${freeze.setBy} at ${freeze.setAt})`;
  }

  /** Stable's traffic over the last analysis window before promotion, the yardstick of the bake. */
  private async baseline(r: RolloutRow): Promise<Baseline> {
    await this.deps.flushStats?.();
    const to = new Date();
    const from = new Date(to.getTime() - Math.max(r.plan.analysisIntervalMs * 4, 60_000));
    const w = (await readArmWindow(this.deps.store, r.deployment, from, to)).filter((x) => x.role === 'stable' && x.version === r.fromVersion);
    const latencies = w.flatMap((x) => x.latenciesMs);
    return { requests: sum(w, 'requests'), errors: sum(w, 'errors'), latenciesMs: latencies.length > BASELINE_SAMPLES ? latencies.slice(-BASELINE_SAMPLES) : latencies };
  }

  private async judge(r: RolloutRow, spec: DeploymentSpec, window: { from: Date; to: Date }, kind: AnalysisRecord['kind']): Promise<AnalysisRecord> {
    await this.deps.flushStats?.();
    const rows = await readArmWindow(this.deps.store, r.deployment, window.from, window.to);
    const obs = (role: string, version: number): ArmObservation & { shadow: ArmWindow['shadow'] } => {
      const m = rows.filter((x) => x.role === role && x.version === version);
      return { version, requests: sum(m, 'requests'), errors: sum(m, 'errors'), latenciesMs: m.flatMap((x) => x.latenciesMs), shadow: m.find((x) => x.shadow)?.shadow ?? null };
    };
    let stable: ArmObservation;
    let candidate: ArmObservation & { shadow: ArmWindow['shadow'] };
    let which: AnalysisRecord['candidate'];
    let expectedCanaryShare: number | undefined;
    if (kind === 'bake') {
      const b = r.state.baseline!;
      candidate = obs('stable', r.toVersion);
      // Too little traffic before promotion for a yardstick: judge the promoted version against itself, so
      // only the absolute bounds (maxErrorRate) can fail it.
      const enough = b.requests >= spec.analysis.minSamples && b.latenciesMs.length >= spec.analysis.minSamples;
      stable = enough ? { version: r.fromVersion, requests: b.requests, errors: b.errors, latenciesMs: b.latenciesMs } : { version: r.fromVersion, requests: candidate.requests, errors: candidate.errors, latenciesMs: candidate.latenciesMs };
      which = 'promoted';
    } else if (r.state.canaryWeight > 0) {
      stable = obs('stable', r.fromVersion);
      candidate = obs('canary', r.toVersion);
      which = 'canary';
      if (spec.targeting.length === 0) expectedCanaryShare = r.state.canaryWeight / 100;
    } else {
      // Mirrored requests are timed from queueing to answer, so stable's latencies are the primary's, timed alike.
      candidate = obs('shadow', r.toVersion);
      const s = obs('stable', r.fromVersion);
      stable = { ...s, latenciesMs: candidate.shadow?.primaryLatenciesMs ?? [] };
      which = 'shadow';
    }
    const modelMetrics: ModelMetricObservation[] = [];
    const rule = (name: string) => spec.analysis.metrics.find((m) => m.name === name);
    const sh = candidate.shadow ?? (which !== 'shadow' ? obs('shadow', r.toVersion).shadow : null);
    if (which === 'shadow' && sh && sh.pairs > 0 && sh.primaryLatenciesMs.length > 0 && candidate.latenciesMs.length > 0) {
      // Evidence only (the max always holds): mirrored timing is not judged unless analysis.latency.judgeShadow.
      const ratio = mean(candidate.latenciesMs) / Math.max(mean(sh.primaryLatenciesMs), 1e-9);
      modelMetrics.push({ name: 'shadow_latency_ratio', stable: null, canary: Math.round(ratio * 1000) / 1000, samples: candidate.latenciesMs.length, direction: 'lower-is-better', max: 1e9, critical: false, informational: true });
    }
    if (sh && sh.pairs > 0) {
      const m = rule('shadow_agreement');
      // Without a configured bound these are evidence only (min 0 / max 1 always pass).
      modelMetrics.push({ name: 'shadow_agreement', stable: null, canary: sh.agree / sh.pairs, samples: sh.pairs, direction: 'higher-is-better', min: m?.min ?? 0, ...(m?.max !== undefined ? { max: m.max } : {}), critical: m?.critical ?? false, informational: m === undefined });
      const divergence = labelDistributionDivergence(sh.primaryLabels, sh.shadowLabels);
      if (Number.isFinite(divergence)) {
        const d = rule('shadow_divergence');
        modelMetrics.push({ name: 'shadow_divergence', stable: null, canary: divergence, samples: sh.pairs, direction: 'lower-is-better', max: d?.max ?? 1, critical: d?.critical ?? false, informational: d === undefined });
      }
    }
    for (const m of spec.analysis.metrics) {
      if (m.name === 'shadow_agreement' || m.name === 'shadow_divergence') continue;
      const v = await this.deps.modelMetrics?.(r.deployment, r.toVersion, m.name, window, r.fromVersion).catch(() => null);
      modelMetrics.push(
        v
          ? { name: m.name, stable: v.stable, canary: v.canary, samples: v.samples, direction: m.max !== undefined && m.min === undefined ? 'lower-is-better' : 'higher-is-better', ...(m.min !== undefined ? { min: m.min } : {}), ...(m.max !== undefined ? { max: m.max } : {}), ...(m.maxDegradation !== undefined ? { maxDegradation: m.maxDegradation } : {}), critical: m.critical ?? false }
          : { name: m.name, stable: null, canary: 0, samples: 0, direction: 'higher-is-better', ...(m.min !== undefined ? { min: m.min } : {}), ...(m.max !== undefined ? { max: m.max } : {}), ...(m.maxDegradation !== undefined ? { maxDegradation: m.maxDegradation } : {}), critical: false },
      );
    }
    const a = spec.analysis;
    const config: Partial<JudgeConfig> = {
      minSamples: a.minSamples,
      errorRate: { maxAbsolute: a.maxErrorRate, alpha: a.errorAlpha, critical: true },
      latency: { confidence: a.latency.confidence, allowedIncrease: which === 'shadow' ? a.latency.shadowAllowedIncrease : a.latency.allowedIncrease, allowedDecrease: 1 / a.latency.allowedIncrease, critical: a.latency.critical, direction: 'increase' },
      srm: { enabled: a.srm.enabled, alpha: a.srm.alpha },
      score: { pass: a.passScore, marginal: a.marginalScore },
    };
    let result: JudgeResult;
    try {
      result = judgeCanary({ stable, canary: candidate, ...(expectedCanaryShare !== undefined ? { expectedCanaryShare } : {}), modelMetrics, skipLatency: which === 'shadow' && !a.latency.judgeShadow }, config);
    } catch (err) {
      result = { verdict: 'nodata', score: null, reason: `the judge could not run: ${(err as Error).message}`, metrics: [] };
    }
    this.deps.metrics?.analysis(r.deployment, kind, result.verdict);
    return { step: kind === 'step' ? r.step : null, kind, at: window.to.toISOString(), window: { from: window.from.toISOString(), to: window.to.toISOString() }, candidate: which, verdict: result.verdict, score: result.score, reason: result.reason, metrics: result.metrics };
  }
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

function sum<T extends { requests: number; errors: number }>(xs: T[], k: 'requests' | 'errors'): number {
  let s = 0;
  for (const x of xs) s += x[k];
  return s;
}
