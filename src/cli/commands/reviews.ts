// `modelgate reviews list|show|decide`: the human review queue of low-confidence and fallback answers; a
// decision is final and becomes the request's label for monitoring.
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import { withClient, wantsJson } from '../connect.js';
import { parseLimit, printJson, printTable } from '../output.js';

function reviewId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new ModelgateError('MG_ERR_CLI_USAGE', `A review id is a positive number (see \`modelgate reviews list\`), got "${text}".`);
  return Number(text);
}

/** A label that reads as a number is sent as one ("1" → 1, "0.5" → 0.5); anything else as the string. */
export function labelValue(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim()) : text;
}

const short = (v: unknown, n = 60): string => {
  const s = v === null || v === undefined ? '-' : JSON.stringify(v);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
};

export function registerReviewCommands(program: Command): void {
  const reviews = program.command('reviews').description('the human review queue: answers with low confidence or from a fallback, waiting for a person\'s label');
  reviews
    .command('list')
    .description('pending reviews, oldest first')
    .option('--all', 'decided reviews too')
    .option('--deployment <name>', 'only this deployment\'s')
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--json', 'JSON output')
    .action(async (o: { all?: boolean; deployment?: string; limit: string }, cmd: Command) => {
      const limit = parseLimit(o.limit, 500);
      const list = await withClient(cmd, (c) => c.listReviews({ status: o.all ? 'all' : 'pending', ...(o.deployment !== undefined ? { deployment: o.deployment } : {}), limit }));
      if (wantsJson(cmd)) return printJson(list);
      if (list.length === 0) {
        process.stdout.write(o.all ? 'no reviews\n' : 'no pending reviews\n');
        return;
      }
      printTable(['ID', 'STATUS', 'DEPLOYMENT', 'VERSION', 'REASON', 'CONFIDENCE', 'QUEUED', 'LABEL', 'OUTPUTS'], list.map((r) => [r.id, r.status, r.deployment, r.version, r.reason, r.confidence, r.createdAt, r.decision === null ? '-' : String(r.decision), short(r.outputs, 40)]));
    });
  reviews
    .command('show')
    .argument('<id>', 'the review')
    .description('one review with the request\'s inputs and the model\'s outputs')
    .option('--json', 'JSON output')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.getReview(reviewId(id)));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(`review #${r.id} ${r.status}: ${r.deployment} (${r.model}@${r.version}), ${r.reason}${r.confidence !== null ? `, confidence ${r.confidence}` : ''}\n`);
      process.stdout.write(`request: ${r.requestId}\nqueued:  ${r.createdAt}\n`);
      if (r.status === 'decided') process.stdout.write(`label:   ${JSON.stringify(r.decision)} by ${r.decidedBy ?? '-'} at ${r.decidedAt ?? '-'}${r.note ? ` (${r.note})` : ''}\n`);
      process.stdout.write(`inputs:\n${JSON.stringify(r.inputs, null, 2)}\noutputs:\n${JSON.stringify(r.outputs, null, 2)}\n`);
    });
  reviews
    .command('decide')
    .argument('<id>', 'the review')
    .description('decide a review (operator; audited; final): the label is recorded as feedback for the request')
    .requiredOption('--label <value>', 'the right answer (a number is sent as a number)')
    .option('--note <text>', 'why')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate reviews decide 42 --label 1\n  modelgate reviews decide 43 --label fraud --note "card used abroad"')
    .action(async (id: string, o: { label: string; note?: string }, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.decideReview(reviewId(id), labelValue(o.label), o.note));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(`review #${r.id} decided: label ${JSON.stringify(r.decision)} recorded as feedback for request ${r.requestId}\n`);
    });
}
