// Prometheus metrics for deployments and rollouts: requests per arm, the traffic split in force, the phase
// of each rollout, analyses by verdict and traffic changes by action. Request counts are the arm
// statistics' running totals, read at scrape time.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ArmTotals } from './arm-stats.js';
import type { DeploymentRouter } from './deployment-router.js';
import type { Phase } from './rollout-store.js';

const PHASES: Phase[] = ['Progressing', 'Paused', 'AwaitingApproval', 'Succeeded', 'RolledBack', 'Aborted'];
/** Most (deployment, arm, version) request series kept apart; more are folded into one overflow series. */
const MAX_SERIES = 512;

export interface RolloutMetrics {
  rolloutPhase(deployment: string, phase: Phase, canaryWeight: number): void;
  analysis(deployment: string, kind: string, verdict: string): void;
  trafficChange(deployment: string, action: string): void;
}

/** Request counts come from the arm statistics' running totals, so the request path counts each answer once. */
export function createRolloutMetrics(registry: Registry, router: DeploymentRouter | null, armStats: { totals(): Iterable<ArmTotals> } | null, prefix = 'modelgate_'): RolloutMetrics {
  const phases = new Map<string, { phase: Phase; canaryWeight: number }>();
  const registers = [registry];

  new Counter({
    name: `${prefix}deployment_requests_total`,
    help: 'Inference requests answered through a deployment, by arm, version and outcome (ok, client_error = 4xx, error = 5xx).',
    labelNames: ['deployment', 'arm', 'version', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      let series = 0;
      for (const t of armStats?.totals() ?? []) {
        // Bounded like the per-model series: beyond MAX_SERIES arms, counts fold into one overflow series.
        const labels = series++ < MAX_SERIES ? { deployment: t.deployment, arm: t.arm, version: String(t.version) } : { deployment: '__other__', arm: '__other__', version: '__other__' };
        if (t.ok > 0) this.inc({ ...labels, outcome: 'ok' }, t.ok);
        if (t.clientErrors > 0) this.inc({ ...labels, outcome: 'client_error' }, t.clientErrors);
        if (t.serverErrors > 0) this.inc({ ...labels, outcome: 'error' }, t.serverErrors);
      }
    },
  });
  new Gauge({
    name: `${prefix}deployment_traffic_weight_percent`,
    help: 'Share of a deployment\'s served traffic each arm takes now (for shadow arms, the share mirrored), as this replica routes it.',
    labelNames: ['deployment', 'arm', 'version', 'role'] as const,
    registers,
    collect() {
      this.reset();
      for (const route of router?.list() ?? []) {
        for (const a of route.arms.values()) {
          const weight = route.killSwitch ? (a === route.stable ? 100 : 0) : a.weight;
          this.set({ deployment: route.name, arm: a.name, version: String(a.version), role: a.role }, weight);
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}deployment_kill_switch`,
    help: '1 while the deployment\'s kill switch sends all of its traffic to the stable arm.',
    labelNames: ['deployment'] as const,
    registers,
    collect() {
      this.reset();
      for (const route of router?.list() ?? []) this.set({ deployment: route.name }, route.killSwitch ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}rollout_phase`,
    help: '1 for the phase the latest rollout of a deployment is in (as last seen by this replica\'s controller), 0 for the others.',
    labelNames: ['deployment', 'phase'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, p] of phases) for (const phase of PHASES) this.set({ deployment, phase }, p.phase === phase ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}rollout_canary_weight_percent`,
    help: 'Share of served traffic the candidate of a rollout in progress takes.',
    labelNames: ['deployment'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, p] of phases) this.set({ deployment }, p.canaryWeight);
    },
  });
  const analyses = new Counter({
    name: `${prefix}rollout_analyses_total`,
    help: 'Canary judgements, by kind (step, guard, bake) and verdict (pass, marginal, fail, nodata).',
    labelNames: ['deployment', 'kind', 'verdict'] as const,
    registers,
  });
  const changes = new Counter({
    name: `${prefix}traffic_changes_total`,
    help: 'Traffic changes the rollout controller made, by ledger action (step, promote, rollback, expire).',
    labelNames: ['deployment', 'action'] as const,
    registers,
  });

  return {
    rolloutPhase(deployment, phase, canaryWeight) {
      phases.set(deployment, { phase, canaryWeight });
    },
    analysis(deployment, kind, verdict) {
      analyses.inc({ deployment, kind, verdict });
    },
    trafficChange(deployment, action) {
      changes.inc({ deployment, action });
    },
  };
}
