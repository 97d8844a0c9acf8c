import { inTenant, requireTenant } from '../database/tenant-context';

/**
 * A lookup of keys (`values[k]`, `types[k]`) whose rows name their key by 1-based `ord`, in
 * the tenants whose rows the search reads (its own first, then ancestors that share).
 */
export type KeyLookup<R extends { ord: number }> = (
  values: string[],
  types: string[],
  tenants: readonly string[],
) => Promise<R[]>;

interface Waiting<R> {
  /** The tenant the lookup runs in: lookups of different tenants never share a statement. */
  tenant: string;
  tenants: readonly string[];
  /** Lookups merge only when they run in one tenant and read the same tenants. */
  group: string;
  values: string[];
  types: string[];
  resolve: (rows: R[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces concurrent small key lookups into one query. A lookup runs at once while fewer
 * than `concurrency` are in flight, so a lone request waits for nothing; beyond that, lookups
 * queue and the next free slot runs all of them as one statement (one round trip, one
 * executor start, one index-probe loop) and hands each its own rows back with its own `ord`s.
 * This is the shape of load a SIEM makes: many single searches at the same moment.
 * Lookups with more than `maxBatchKeys` keys (bulk searches) run on their own. Only lookups of
 * one tenant are merged, and the statement runs in that tenant (docs/tenancy.md), whichever
 * request's turn it is that starts it.
 */
export class CoalescingLookup<R extends { ord: number }> {
  private running = 0;
  private waiting: Array<Waiting<R>> = [];

  constructor(
    private readonly lookup: KeyLookup<R>,
    private readonly concurrency: number,
    private readonly maxBatchKeys: number,
  ) {}

  run(values: string[], types: string[], tenants: readonly string[]): Promise<R[]> {
    if (values.length > this.maxBatchKeys) return this.lookup(values, types, tenants);
    const tenant = requireTenant();
    const group = tenants.length === 1 ? tenant : `${tenant}:${tenants.join(',')}`;
    return new Promise<R[]>((resolve, reject) => {
      this.waiting.push({ tenant, tenants, group, values, types, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      // The oldest lookup's tenant, and every lookup of it waiting behind (up to the bound).
      const { tenant, group } = this.waiting[0];
      const batch: Array<Waiting<R>> = [];
      const rest: Array<Waiting<R>> = [];
      let keys = 0;
      for (const w of this.waiting) {
        const fits = batch.length === 0 || keys + w.values.length <= this.maxBatchKeys;
        if (w.group === group && fits) {
          batch.push(w);
          keys += w.values.length;
        } else rest.push(w);
      }
      this.waiting = rest;
      this.running++;
      void inTenant(tenant, () => this.runBatch(batch)).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  /** Settles every lookup of the batch, whatever happens (never rejects itself). */
  private async runBatch(batch: Array<Waiting<R>>): Promise<void> {
    try {
      if (batch.length === 1) {
        batch[0].resolve(await this.lookup(batch[0].values, batch[0].types, batch[0].tenants));
        return;
      }
      const values: string[] = [];
      const types: string[] = [];
      /** Per merged key: the waiting lookup it came from, and its own 1-based ord there. */
      const owner: number[] = [];
      const ownOrd: number[] = [];
      batch.forEach((w, k) => {
        for (let i = 0; i < w.values.length; i++) {
          values.push(w.values[i]);
          types.push(w.types[i]);
          owner.push(k);
          ownOrd.push(i + 1);
        }
      });
      const rows = await this.lookup(values, types, batch[0].tenants);
      const perLookup: R[][] = batch.map(() => []);
      for (const row of rows) {
        const at = row.ord - 1;
        row.ord = ownOrd[at];
        perLookup[owner[at]].push(row);
      }
      batch.forEach((w, k) => w.resolve(perLookup[k]));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
