// `modelgate keys …`: create, list and revoke API keys (admin).
import type { Command } from 'commander';
import { withClient, wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys and their roles (invoker < viewer < operator < approver < admin)');
  keys
    .command('create <name>')
    .description('create a key; it is printed once and stored only as a hash')
    .requiredOption('--role <role>', 'invoker, viewer, operator, approver or admin')
    .option('--models <patterns>', 'limit the key to these model name patterns, comma-separated (e.g. fraud-*,churn)')
    .option('--json', 'JSON output')
    .action(async (name: string, o: { role: string; models?: string }, cmd: Command) => {
      const created = await withClient(cmd, (c) => c.createKey(name, o.role, o.models?.split(',').map((s) => s.trim()).filter(Boolean) ?? []));
      if (wantsJson(cmd)) return printJson(created);
      process.stdout.write(`created ${created.id} (${created.name}, ${created.role}${created.modelPatterns.length ? `, models ${created.modelPatterns.join(',')}` : ''})\nkey (shown once): ${created.key}\n`);
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--all', 'include revoked keys')
    .option('--json', 'JSON output')
    .action(async (o: { all?: boolean }, cmd: Command) => {
      const list = await withClient(cmd, (c) => c.listKeys(Boolean(o.all)));
      if (wantsJson(cmd)) return printJson(list);
      printTable(['ID', 'NAME', 'ROLE', 'MODELS', 'CREATED', 'REVOKED'], list.map((k) => [k.id, k.name, k.role, k.modelPatterns.join(',') || '*', k.createdAt, k.revokedAt]));
    });
  keys
    .command('revoke <id>')
    .description('revoke a key at once')
    .option('--json', 'JSON output')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const k = await withClient(cmd, (c) => c.revokeKey(id));
      if (wantsJson(cmd)) return printJson(k);
      process.stdout.write(`revoked ${k.id} (${k.name})\n`);
    });
}
