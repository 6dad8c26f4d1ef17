import { describe, expect, it } from 'vitest';
import { QueueFullError, Scheduler, SchedulerClosedError } from '../../src/serve/scheduler.js';

describe('serve scheduler', () => {
  it('runs up to `parallel` at once and hands slots to waiters in arrival order', async () => {
    const scheduler = new Scheduler(2, 10);
    const a = await scheduler.acquire();
    const b = await scheduler.acquire();
    const order: string[] = [];
    const c = scheduler.acquire().then((release) => (order.push('c'), release));
    const d = scheduler.acquire().then((release) => (order.push('d'), release));
    await Promise.resolve();
    expect(scheduler.active).toBe(2);
    expect(scheduler.queued).toBe(2);
    expect(order).toEqual([]);
    a();
    (await c)();
    b();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    expect(scheduler.active).toBe(0);
  });

  it('refuses at once with a Retry-After estimate when the queue is full', async () => {
    const scheduler = new Scheduler(1, 1);
    await scheduler.acquire();
    void scheduler.acquire();
    const error = await scheduler.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('a waiter whose client goes away leaves the queue', async () => {
    const scheduler = new Scheduler(1, 4);
    const release = await scheduler.acquire();
    const controller = new AbortController();
    const waiting = scheduler.acquire(controller.signal);
    expect(scheduler.queued).toBe(1);
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(scheduler.queued).toBe(0);
    release();
    expect(scheduler.active).toBe(0);
  });

  it('close() fails the queued requests, keeps running ones, and refuses new ones', async () => {
    const scheduler = new Scheduler(1, 4);
    const release = await scheduler.acquire();
    const queued = scheduler.acquire();
    scheduler.close();
    await expect(queued).rejects.toBeInstanceOf(SchedulerClosedError);
    await expect(scheduler.acquire()).rejects.toBeInstanceOf(SchedulerClosedError);
    expect(scheduler.active).toBe(1);
    release();
    release();
    expect(scheduler.active).toBe(0);
  });
});
