import { describe, expect, it } from 'vitest';
import type { ExecutionStatus } from '../tasks/execution-status';
import type { TaskType } from '../tasks/task-type';
import { alertForRun, type FinishedRun } from './run-alerts';

const task = (type: TaskType, config: unknown = {}) => ({ id: 'task-1', name: 'Nightly', type, projectId: 'shop', config });
const healthCheck = (alertOnFailure: boolean) => task('health-check', { alertOnFailure });
const run = (status: ExecutionStatus, extra: Partial<FinishedRun> = {}): FinishedRun => ({
  id: 'exec-1',
  status,
  scheduledFor: null,
  executedAt: new Date('2026-01-01T00:00:00Z'),
  finishedAt: new Date('2026-01-01T00:00:05Z'),
  error: status === 'success' ? null : 'container web: not running (exited)',
  result: null,
  ...extra,
});

describe('alertForRun', () => {
  it('alerts on every failed or timed-out health check with alertOnFailure, with its problems', () => {
    const result = { problems: ['container web: not running (exited)'] };
    expect(alertForRun(healthCheck(true), run('failed', { result }), 'failed', false)).toMatchObject({
      event: 'health-check.failed',
      task: { id: 'task-1', projectId: 'shop' },
      execution: { id: 'exec-1', status: 'failed' },
      details: { problems: result.problems },
    });
    expect(alertForRun(healthCheck(true), run('timeout'), null, false)?.event).toBe('health-check.failed');
  });

  it('announces recovery once: the first success after a failure or timeout only', () => {
    expect(alertForRun(healthCheck(true), run('success'), 'failed', false)?.event).toBe('health-check.recovered');
    expect(alertForRun(healthCheck(true), run('success'), 'timeout', false)?.event).toBe('health-check.recovered');
    expect(alertForRun(healthCheck(true), run('success'), 'success', false)).toBeNull();
    expect(alertForRun(healthCheck(true), run('success'), null, false)).toBeNull();
  });

  it('does not treat a cancelled check as a failure', () => {
    expect(alertForRun(healthCheck(true), run('cancelled'), 'success', true)).toBeNull();
  });

  it('leaves health checks without alertOnFailure to ALERT_ON_RUN_FAILURE', () => {
    expect(alertForRun(healthCheck(false), run('failed'), 'success', false)).toBeNull();
    expect(alertForRun(healthCheck(false), run('failed'), 'success', true)?.event).toBe('run.failed');
    expect(alertForRun(healthCheck(false), run('success'), 'failed', true)).toBeNull();
  });

  it('with ALERT_ON_RUN_FAILURE sends failed and timed-out runs of every type, nothing else', () => {
    for (const type of ['backup', 'container-update', 'custom'] as const) {
      expect(alertForRun(task(type), run('failed'), null, true)).toMatchObject({
        event: 'run.failed',
        message: `${type} task "Nightly" failed: container web: not running (exited)`,
      });
      expect(alertForRun(task(type), run('timeout', { error: 'Timed out after 5 s' }), null, true)?.message).toContain('timed out');
      expect(alertForRun(task(type), run('success'), 'failed', true)).toBeNull();
      expect(alertForRun(task(type), run('cancelled'), null, true)).toBeNull();
      expect(alertForRun(task(type), run('failed'), null, false)).toBeNull();
    }
  });
});
