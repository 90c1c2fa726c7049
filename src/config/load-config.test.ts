import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from './load-config.js';

describe('configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-config-'));

  it('has defaults, and resolves home against the working directory', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    assert.equal(c.home, join(dir, '.modelgate'));
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.host, '127.0.0.1');
    assert.equal(c.databaseUrl, undefined);
  });

  it('layers defaults < modelgate.yaml < MODELGATE_* < flags', () => {
    writeFileSync(join(dir, 'modelgate.yaml'), 'server:\n  port: 9000\n  host: 0.0.0.0\nlog:\n  level: debug\nowner:\n  team: from-file\n');
    const fileOnly = loadConfig({ env: {}, cwd: dir });
    assert.deepEqual([fileOnly.server.port, fileOnly.server.host, fileOnly.log.level, fileOnly.owner.team], [9000, '0.0.0.0', 'debug', 'from-file']);
    const withEnv = loadConfig({ env: { MODELGATE_PORT: '9100', MODELGATE_SERVER__BODY_LIMIT: '2048', MODELGATE_OWNER_TEAM: 'from-env' }, cwd: dir });
    assert.deepEqual([withEnv.server.port, withEnv.server.host, withEnv.server.bodyLimit, withEnv.owner.team], [9100, '0.0.0.0', 2048, 'from-env']);
    const withFlags = loadConfig({ env: { MODELGATE_PORT: '9100' }, cwd: dir, flags: { server: { port: 9200 } } });
    assert.equal(withFlags.server.port, 9200);
    assert.equal(withFlags.server.host, '0.0.0.0', 'a flag for one setting keeps the others');
  });

  it('is frozen', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    assert.throws(() => {
      (c.server as { port: number }).port = 1;
    }, TypeError);
  });

  it('names the bad setting and the value it got', () => {
    assert.throws(() => loadConfig({ env: { MODELGATE_PORT: 'eighty' }, cwd: dir }), (e: Error & { code?: string }) => e.code === 'MG_ERR_CONFIG_INVALID' && /server\/port/.test(e.message) && /eighty/.test(e.message));
    assert.throws(() => loadConfig({ env: { MODELGATE_DATABASE_URL: 'mysql://x' }, cwd: dir }), (e: Error & { code?: string }) => e.code === 'MG_ERR_CONFIG_INVALID' && /databaseUrl/.test(e.message));
    writeFileSync(join(dir, 'bad.yaml'), 'server: [unclosed');
    assert.throws(() => loadConfig({ env: {}, cwd: dir, file: 'bad.yaml' }), (e: Error & { code?: string }) => e.code === 'MG_ERR_CONFIG_FILE_UNREADABLE');
    assert.throws(() => loadConfig({ env: {}, cwd: dir, file: 'missing.yaml' }), (e: Error & { code?: string }) => e.code === 'MG_ERR_CONFIG_FILE_UNREADABLE');
    writeFileSync(join(dir, 'typo.yaml'), 'sever:\n  port: 1\n');
    assert.throws(() => loadConfig({ env: {}, cwd: dir, file: 'typo.yaml' }), (e: Error & { code?: string }) => e.code === 'MG_ERR_CONFIG_INVALID');
  });
});
