import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionsTaken, duration, renderPostmortem, versionsInvolved, type PostmortemInput, type TimelineEntry } from './postmortem.js';

const entry = (at: string, kind: string, o: Partial<TimelineEntry> = {}): TimelineEntry => ({ at, kind, summary: `${kind} happened`, actor: 'system:test', source: 'incident', versions: [], details: {}, ...o });

function input(over: Partial<PostmortemInput> = {}): PostmortemInput {
  return {
    incident: {
      id: 7,
      title: 'weather: availability burning 20x',
      deployment: 'weather',
      severity: 'SEV1',
      status: 'resolved',
      openedAt: '2026-03-01T10:00:00.000Z',
      ackedAt: '2026-03-01T10:04:00.000Z',
      ackedBy: 'key:key_ops',
      resolvedAt: '2026-03-01T11:30:15.000Z',
      resolvedBy: 'key:key_ops',
      resolution: 'rolled back to v1',
    },
    timeline: [
      entry('2026-03-01T09:40:00.000Z', 'rollout.start', { source: 'audit', actor: 'key:key_dev', summary: 'rollout #3 started v1 → v2 (canary)', versions: [1, 2] }),
      entry('2026-03-01T10:00:00.000Z', 'alert', { actor: 'system:alerts', summary: 'SEV1 slo_fast_burn: availability', versions: [2] }),
      entry('2026-03-01T10:02:00.000Z', 'rollback', { summary: 'rolled back to v1 | automatically', versions: [1] }),
      entry('2026-03-01T10:03:00.000Z', 'traffic.rollback', { source: 'traffic', summary: 'traffic rollback: v1 100%', versions: [1] }),
      entry('2026-03-01T10:04:00.000Z', 'ack', { actor: 'key:key_ops', summary: 'acknowledged' }),
      entry('2026-03-01T11:30:15.000Z', 'resolve', { actor: 'key:key_ops', summary: 'resolved: rolled back to v1' }),
    ],
    slos: [
      { name: 'weather-availability', sli: 'availability', objective: 0.999, window: '28d', span: { total: 1000, good: 950, bad: 50, sli: 0.95 }, allowedBad: 400, consumed: 0.125, remaining: 0.6, notes: [] },
      { name: 'weather-drift', sli: 'drift_free', objective: 0.99, window: '28d', span: null, allowedBad: null, consumed: null, remaining: null, notes: ['drift_free SLIs are not computed from the store'] },
    ],
    generatedAt: '2026-03-01T11:30:15.000Z',
    ...over,
  };
}

describe('renderPostmortem', () => {
  it('titles the draft and summarises deployment, severity, times and duration', () => {
    const md = renderPostmortem(input());
    assert.ok(md.startsWith('# Postmortem: weather: availability burning 20x\n'), md.slice(0, 80));
    assert.match(md, /\| Deployment \| weather \|/);
    assert.match(md, /\| Severity \| SEV1 \|/);
    assert.match(md, /\| Opened \| 2026-03-01T10:00:00\.000Z \|/);
    assert.match(md, /\| Acknowledged \| 2026-03-01T10:04:00\.000Z by key:key_ops \(after 4m\) \|/);
    assert.match(md, /\| Resolved \| 2026-03-01T11:30:15\.000Z by key:key_ops \|/);
    assert.match(md, /\| Duration \| 1h 30m 15s \|/);
    assert.match(md, /\| Resolution \| rolled back to v1 \|/);
  });

  it('has every section, in order', () => {
    const md = renderPostmortem(input());
    const sections = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(sections, ['Summary', 'Timeline', 'SLI impact', 'Error budget', 'Versions involved', 'Actions taken', 'Open questions']);
  });

  it('lists the timeline with ISO UTC times and escapes table pipes', () => {
    const md = renderPostmortem(input());
    assert.match(md, /\| 2026-03-01T09:40:00\.000Z \| rollout\.start \| rollout #3 started v1 → v2 \(canary\) \| key:key_dev \|/);
    assert.match(md, /rolled back to v1 \\\| automatically/);
    // A time written in another zone is shown in UTC.
    const md2 = renderPostmortem(input({ timeline: [entry('2026-03-01T12:00:00+02:00', 'note')] }));
    assert.match(md2, /\| 2026-03-01T10:00:00\.000Z \| note \|/);
  });

  it('reports the SLI over the incident and the budget it spent, and says which SLIs are not computed', () => {
    const md = renderPostmortem(input());
    assert.match(md, /\| weather-availability \| availability \| 99\.9% \| 1000 \| 50 \| 95% \(below objective\) \|/);
    assert.match(md, /\| weather-drift \| drift_free \| 99% \| - \| - \| not computed from the store \|/);
    assert.match(md, /\| weather-availability \| 28d \| 400 \| 12\.5% \(50 bad events\) \| 60% \|/);
    assert.match(md, /weather-availability: the incident spent 12\.5% of the 28d error budget; 60% is left\./);
  });

  it('marks an overspent budget', () => {
    const slos = [{ name: 's', sli: 'availability', objective: 0.99, window: '7d', span: { total: 10, good: 0, bad: 10, sli: 0 }, allowedBad: 2, consumed: 5, remaining: -4, notes: [] }];
    assert.match(renderPostmortem(input({ slos })), /\| s \| 7d \| 2 \| 500% \(10 bad events\) \| -400% \(overspent\) \|/);
  });

  it('names every version from alerts, rollouts and traffic changes', () => {
    const md = renderPostmortem(input());
    assert.match(md, /- weather v1 \(named by rollout\.start, rollback, traffic\.rollback\)/);
    assert.match(md, /- weather v2 \(named by rollout\.start, alert\)/);
    assert.deepEqual([...versionsInvolved(input().timeline).keys()], [1, 2]);
  });

  it('lists the actions after the opening, automatic and manual, but not the alerts or the change before', () => {
    const i = input();
    assert.deepEqual(actionsTaken(i.incident, i.timeline).map((a) => a.kind), ['rollback', 'traffic.rollback', 'ack', 'resolve']);
    const md = renderPostmortem(i);
    const actions = md.split('## Actions taken')[1]!.split('## Open questions')[0]!;
    assert.match(actions, /2026-03-01T10:02:00\.000Z rollback \(automatic, system:test\)/);
    assert.match(actions, /2026-03-01T10:04:00\.000Z ack \(manual, key:key_ops\): acknowledged/);
    assert.doesNotMatch(actions, /rollout\.start|slo_fast_burn/);
  });

  it('asks the open questions with the facts it has', () => {
    const md = renderPostmortem(input());
    const q = md.split('## Open questions')[1]!;
    assert.match(q, /Root cause: .*The last change before the incident opened was rollout\.start at 2026-03-01T09:40:00\.000Z\./);
    assert.match(q, /Detection: the first alert fired at 2026-03-01T10:00:00\.000Z\./);
    assert.match(q, /Safeguards: Modelgate acted on its own 2 times/);
    assert.match(q, /Follow-ups:/);
  });

  it('writes a draft for an incident still open, and says when there is no SLO or no SLO data', () => {
    const open = input({ incident: { ...input().incident, status: 'open', ackedAt: null, ackedBy: null, resolvedAt: null, resolvedBy: null, resolution: null }, generatedAt: '2026-03-01T10:30:00.000Z', slos: [] });
    const md = renderPostmortem(open);
    assert.match(md, /still open/);
    assert.match(md, /\| Resolved \| not yet \(open\) \|/);
    assert.match(md, /\| Duration \| 30m so far \|/);
    assert.match(md, /No SLO covers deployment weather/);
    assert.match(renderPostmortem(input({ slos: null })), /The SLOs could not be read/);
  });

  it('says so when nothing is recorded', () => {
    const md = renderPostmortem(input({ timeline: [] }));
    assert.match(md, /## Timeline\n\nNothing was recorded\./);
    assert.match(md, /No version is named/);
    assert.match(md, /No action was recorded after the incident opened\./);
    assert.match(md, /no alert is in the timeline/);
  });
});

describe('duration', () => {
  it('reads as days, hours, minutes and seconds', () => {
    assert.equal(duration(0), '0s');
    assert.equal(duration(59_400), '59s');
    assert.equal(duration(3_600_000), '1h');
    assert.equal(duration(90_061_000), '1d 1h 1m 1s');
    assert.equal(duration(-1), '-');
  });
});
