// `modelgate rollout …`: check readiness, start, follow, pause, resume, promote, approve, abort, roll back.
// The controller in a running server moves rollouts along; these commands record what people decide.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { GateReport } from '../../rollout/gates.js';
import type { StrategyName } from '../../rollout/rollout-plan.js';
import type { RolloutStatus } from '../../rollout/rollout-service.js';
import type { ModelgateClient } from '../client.js';
import { withClient, wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';
import { formatWeights, rolloutLine } from './deployments.js';

const TERMINAL = new Set(['Succeeded', 'RolledBack', 'Aborted']);
const WATCH_INTERVAL_MS = 2000;
const ANALYSES_SHOWN = 3;

export function registerRolloutCommands(program: Command): void {
  const rollout = program.command('rollout').description('progressive rollouts of a new version on a deployment (canary, blue-green, shadow)');

  rollout
    .command('check <deployment>')
    .description('the readiness checklist for rolling a version out: one line per gate with its evidence; exits 1 when any gate fails')
    .requiredOption('--to <version>', 'the candidate: a version number or an alias')
    .option('--json', 'JSON output (the exit status is the same)')
    .action(async (deployment: string, o: { to: string }, cmd: Command) => {
      const report = await withClient(cmd, (c) => c.checkRollout(deployment, o.to));
      if (wantsJson(cmd)) printJson(report);
      else printChecklist(report);
      if (!report.passed) process.exitCode = 1;
    });

  rollout
    .command('start <deployment>')
    .description('start a rollout to a version; readiness gates and release freezes are checked first')
    .requiredOption('--to <version>', 'the candidate: a version number or an alias')
    .addOption(new Option('--strategy <strategy>', 'default: canary when the deployment has canary steps, else blue-green').choices(['canary', 'blue-green', 'shadow']))
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--override-gates <reason>', 'start despite failing readiness gates (approver key), and why')
    .option('--override-freeze <reason>', 'start despite a release freeze (approver key), and why')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate rollout check weather --to 2\n  modelgate rollout start weather --to 2 --reason "retrained on 2025 data"\n  modelgate rollout start weather --to 2 --strategy blue-green')
    .action(async (deployment: string, o: { to: string; strategy?: StrategyName; reason?: string; overrideGates?: string; overrideFreeze?: string }, cmd: Command) => {
      const s = await withClient(cmd, (c) => c.startRollout(deployment, { to: o.to, strategy: o.strategy, reason: o.reason, overrideGates: o.overrideGates, overrideFreeze: o.overrideFreeze }));
      if (wantsJson(cmd)) return printJson(s);
      process.stdout.write(`started rollout #${s.id} of ${s.deployment}: ${s.strategy}, v${s.fromVersion} → v${s.toVersion}\n\n`);
      printStatus(s);
    });

  rollout
    .command('status <deployment>')
    .description('the latest rollout: phase, steps, weights, shadows and the last analyses')
    .option('--watch', `poll every ${WATCH_INTERVAL_MS / 1000} s and print the status again when it changes, until the rollout ends (Succeeded, RolledBack, Aborted)`)
    .option('--json', 'JSON output (with --watch: one JSON object per line)')
    .action(async (deployment: string, o: { watch?: boolean }, cmd: Command) => {
      const json = wantsJson(cmd);
      await withClient(cmd, async (c) => {
        let last = '';
        for (;;) {
          const s = await c.rolloutStatus(deployment);
          const text = JSON.stringify(s);
          if (text !== last) {
            if (json) {
              if (o.watch) process.stdout.write(text + '\n');
              else printJson(s);
            } else {
              if (last) process.stdout.write('\n');
              printStatus(s);
            }
            last = text;
          }
          if (!o.watch || TERMINAL.has(s.phase)) return;
          await sleep(WATCH_INTERVAL_MS);
        }
      });
    });

  rollout
    .command('list <deployment>')
    .description('the rollouts of a deployment, newest first')
    .option('--json', 'JSON output')
    .action(async (deployment: string, _o: unknown, cmd: Command) => {
      const list = await withClient(cmd, (c) => c.listRollouts(deployment));
      if (wantsJson(cmd)) return printJson(list);
      if (list.length === 0) return void process.stdout.write(`deployment ${deployment} has no rollouts yet: start one with \`modelgate rollout start ${deployment} --to <version>\`\n`);
      printTable(
        ['ID', 'STRATEGY', 'FROM', 'TO', 'PHASE', 'STEP', 'STARTED', 'BY', 'FINISHED'],
        list.map((s) => [s.id, s.strategy, s.fromVersion, s.toVersion, s.phase, stepOf(s), s.createdAt, s.createdBy, s.finishedAt]),
      );
    });

  const withReason = (name: string, description: string, run: (c: ModelgateClient, deployment: string, reason: string | undefined) => Promise<RolloutStatus>) =>
    rollout
      .command(`${name} <deployment>`)
      .description(description)
      .option('--reason <text>', 'why (recorded in the audit log)')
      .option('--json', 'JSON output')
      .action(async (deployment: string, o: { reason?: string }, cmd: Command) => {
        const s = await withClient(cmd, (c) => run(c, deployment, o.reason));
        if (wantsJson(cmd)) return printJson(s);
        printOutcome(s);
      });

  withReason('pause', 'pause the rollout at its current step (traffic stays where it is)', (c, d, reason) => c.pauseRollout(d, reason));

  rollout
    .command('resume <deployment>')
    .description('resume a paused rollout (a pause step without a duration ends here)')
    .option('--json', 'JSON output')
    .action(async (deployment: string, _o: unknown, cmd: Command) => {
      const s = await withClient(cmd, (c) => c.resumeRollout(deployment));
      if (wantsJson(cmd)) return printJson(s);
      printOutcome(s);
    });

  rollout
    .command('promote <deployment>')
    .description('skip the current pause or analysis step, or with --full every remaining step; approval steps are never skipped')
    .option('--full', 'skip every remaining step up to the promotion')
    .option('--override-freeze <reason>', 'promote despite a release freeze (approver key), and why')
    .option('--json', 'JSON output')
    .action(async (deployment: string, o: { full?: boolean; overrideFreeze?: string }, cmd: Command) => {
      const s = await withClient(cmd, (c) => c.promoteRollout(deployment, { full: Boolean(o.full), overrideFreeze: o.overrideFreeze }));
      if (wantsJson(cmd)) return printJson(s);
      printOutcome(s);
    });

  withReason('approve', 'approve the current approval step (an approver key other than the one that started the rollout)', (c, d, reason) => c.approveRollout(d, reason));
  withReason('abort', 'abort: all traffic back on the stable version now; the rollout ends Aborted', (c, d, reason) => c.abortRollout(d, reason));
  withReason('rollback', 'roll back: abort a rollout in progress, or undo a promotion while the previous version is still on standby', (c, d, reason) => c.rollbackRollout(d, reason));
}

function stepOf(s: RolloutStatus): string {
  return `${Math.min(s.step + 1, s.steps.length)}/${s.steps.length}`;
}

function printChecklist(r: GateReport): void {
  const width = Math.max(...r.items.map((i) => i.name.length));
  const lines = [`deployment ${r.deployment}: ${r.model}@${r.candidate} against stable ${r.stable === null ? '(none)' : `v${r.stable}`}`, ''];
  for (const i of r.items) lines.push(`${i.status.toUpperCase().padEnd(4)}  ${i.name.padEnd(width)}  ${i.evidence}`);
  const failed = r.items.filter((i) => i.status === 'fail').length;
  lines.push('', r.passed ? 'ready: every required gate passes' : `not ready: ${failed} gate${failed === 1 ? '' : 's'} failed`);
  process.stdout.write(lines.join('\n') + '\n');
}

function printOutcome(s: RolloutStatus): void {
  process.stdout.write(`rollout ${rolloutLine({ ...s, steps: s.steps.length })}${s.message ? `\n  ${s.message}` : ''}\n`);
}

function printStatus(s: RolloutStatus): void {
  const mark = { done: '✓', current: '▶', pending: '·' } as const;
  const out = [
    `rollout #${s.id} of ${s.deployment} (model ${s.model}): ${s.strategy}, v${s.fromVersion} → v${s.toVersion}, started ${s.createdAt} by ${s.createdBy}`,
    `  phase     ${s.phase}${s.phase === 'Paused' && s.pausedBy ? ` (by ${s.pausedBy})` : ''}${s.finishedAt ? `, finished ${s.finishedAt}` : ''}${s.bakeUntil ? `, baking until ${s.bakeUntil}` : ''}`,
    `  step      ${stepOf(s)} (since ${s.stepStartedAt})`,
    ...s.steps.map((st) => `    ${mark[st.state]} ${st.index + 1}. ${st.description}`),
    `  weights   ${formatWeights(s.weights)}`,
    `  shadows   ${Object.keys(s.shadows).length ? formatWeights(s.shadows) : '-'}`,
    `  message   ${s.message ?? '-'}`,
  ];
  for (const a of s.approvals) out.push(`  approved  step ${a.step + 1} by ${a.actor} at ${a.at}${a.reason ? `: ${a.reason}` : ''}`);
  for (const o of s.overrides) out.push(`  override  ${o.kind} by ${o.actor} at ${o.at}: ${o.reason}`);
  if (s.analyses.length === 0) out.push('  analyses  none yet');
  else {
    const shown = s.analyses.slice(-ANALYSES_SHOWN).reverse();
    out.push(`  analyses  latest ${shown.length} of ${s.analyses.length}, newest first`);
    for (const a of shown) {
      out.push(`    ${a.at}  ${a.kind === 'step' && a.step !== null ? `step ${a.step + 1}` : a.kind}  ${a.candidate}  ${a.verdict.toUpperCase()}  score ${a.score ?? '-'}  ${a.reason}`);
      const width = Math.max(0, ...a.metrics.map((m) => m.name.length));
      for (const m of a.metrics) out.push(`      ${m.name.padEnd(width)}  ${m.classification.padEnd(6)}${m.critical ? ' critical' : '         '}  ${m.reason}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}
