import type { ServerResponse } from 'node:http';
import {
  Global,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Module,
  OnModuleDestroy,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';

const MiB = 1024 * 1024;
/** What an export holds while it streams (its batches and buffers), measured at ~10 MiB. */
export const EXPORT_SHARE = 16 * MiB;
/** What a refused request is told to wait before it tries again (seconds). */
const RETRY_AFTER_SECONDS = 2;

interface Waiter {
  bytes: number;
  grant: () => void;
  refuse: (err: HttpException) => void;
}

/**
 * The memory that admitted bulk work may hold at once (docs/api.md §8, work budget):
 * WORK_BUDGET_MB, taken by request bodies (JSON by their size, indicator uploads at a fixed
 * share), bulk searches and exports for as long as their response lasts. Work that does not fit
 * waits, first come first served, in a queue of at most WORK_QUEUE_LENGTH for at most
 * WORK_QUEUE_WAIT_SECONDS; beyond either it gets 429 with Retry-After. Nothing else bounds
 * what admitted requests hold: twenty 60 MiB search bodies took 5.7 GB.
 */
@Injectable()
export class WorkBudget implements OnModuleDestroy {
  readonly capacity: number;
  private free: number;
  private readonly queue: Waiter[] = [];

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {
    this.capacity = config.env.WORK_BUDGET_MB * MiB;
    this.free = this.capacity;
  }

  /** Bytes of the budget not taken. */
  get available(): number {
    return this.free;
  }

  /**
   * Takes `bytes` (at most the whole budget: larger work runs alone) until `res` closes;
   * resolves once taken, or rejects with 429. A client that leaves while waiting leaves the
   * queue.
   */
  take(bytes: number, res: ServerResponse): Promise<void> {
    const share = Math.min(Math.max(0, Math.ceil(bytes)), this.capacity);
    const held = (): void => {
      this.free -= share;
      res.once('close', () => this.give(share));
    };
    if (this.queue.length === 0 && share <= this.free) {
      held();
      return Promise.resolve();
    }
    if (this.queue.length >= this.config.env.WORK_QUEUE_LENGTH) {
      return Promise.reject(this.refusal(res, `${this.queue.length} requests already wait`));
    }
    return new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        res.off('close', gone);
      };
      const waiter: Waiter = {
        bytes: share,
        grant: () => {
          leave();
          held();
          resolve();
        },
        refuse: (err) => {
          leave();
          reject(err);
          // Whoever queued behind it may fit now.
          this.drain();
        },
      };
      const seconds = this.config.env.WORK_QUEUE_WAIT_SECONDS;
      const timer = setTimeout(
        () => waiter.refuse(this.refusal(res, `waited ${seconds} s (WORK_QUEUE_WAIT_SECONDS)`)),
        seconds * 1000,
      );
      const gone = (): void => waiter.refuse(this.refusal(res, 'the client left'));
      res.once('close', gone);
      this.queue.push(waiter);
    });
  }

  onModuleDestroy(): void {
    for (const w of [...this.queue]) w.refuse(new HttpException('Shutting down', 503));
  }

  private give(bytes: number): void {
    this.free += bytes;
    this.drain();
  }

  private drain(): void {
    while (this.queue.length > 0 && this.queue[0].bytes <= this.free) this.queue[0].grant();
  }

  private refusal(res: ServerResponse, why: string): HttpException {
    if (!res.headersSent) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    return new HttpException(
      `Server busy: bulk work in progress holds the memory budget (WORK_BUDGET_MB=${this.config.env.WORK_BUDGET_MB}) and ${why}; retry shortly`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** One budget for the process, read by the body parser, search and exports. */
@Global()
@Module({ providers: [WorkBudget], exports: [WorkBudget] })
export class WorkBudgetModule {}

/** How long synchronous work may run before it lets the event loop serve others. */
const SLICE_MS = 4;

/** Paused work waiting for its next slice, first come first served. */
const waiting: Array<() => void> = [];
let turnScheduled = false;

/**
 * Resumes one paused piece of work per event-loop turn. Resuming every paused request at once
 * (each its own setImmediate) made one turn cost a slice per concurrent request: 20 bulk
 * searches held the loop ~100 ms per turn, and /health/live waited that long.
 */
function nextTurn(): void {
  turnScheduled = false;
  const resume = waiting.shift();
  // Queued from within this turn, so it runs in the next one, after that turn's I/O.
  if (waiting.length > 0) scheduleTurn();
  resume?.();
}

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(nextTurn);
}

/**
 * Lets a long loop give the event loop a turn every SLICE_MS (docs/api.md §8): a 100,000-value
 * search planned in one piece held /health/live for seconds. Checked every `every` steps, so
 * a loop pays one clock read per batch, and a short loop (a single search) never yields. All
 * slicers of the process share one queue: the event loop runs at most one slice of bulk work
 * per turn, however many requests hold bulk work.
 */
export class Slicer {
  /** Due from the start: bulk work begins in a turn of its own, not in the I/O callback. */
  private sliceStart = -Infinity;

  constructor(private readonly every = 512) {}

  /** Whether, at this step of a loop, the slice is used up and pause() is due. */
  due(step: number): boolean {
    return step % this.every === this.every - 1 && performance.now() - this.sliceStart >= SLICE_MS;
  }

  async pause(): Promise<void> {
    await new Promise<void>((resume) => {
      waiting.push(resume);
      scheduleTurn();
    });
    this.sliceStart = performance.now();
  }
}
