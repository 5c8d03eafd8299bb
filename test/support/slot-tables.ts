import { type SlotLease, type SlotTable } from '../../src/graph/slot-table';

/** An in-memory slot table shared by the limiters of one unit test (several "instances"). */
export interface MemorySlotTable extends SlotTable {
  /** Slots of `mailbox` leased now, by anyone. */
  leased(mailbox: string): number;
  /** Calls to `lease` so far (each a storage round trip or more in the real table). */
  calls: number;
  /** While true, `lease` throws as an unreachable storage account does. */
  down: boolean;
}

export function memorySlotTable(slots = 4): MemorySlotTable {
  const taken = new Map<string, Set<number>>();
  const table: MemorySlotTable = {
    calls: 0,
    down: false,
    leased: (mailbox) => taken.get(mailbox)?.size ?? 0,
    lease(mailbox, count, held) {
      table.calls++;
      if (table.down) return Promise.reject(new Error('getaddrinfo ENOTFOUND storage'));
      const set = taken.get(mailbox) ?? new Set<number>();
      taken.set(mailbox, set);
      const got: SlotLease[] = [];
      for (let index = 0; index < slots && got.length < count; index++) {
        if (set.has(index) || held.has(index)) continue;
        set.add(index);
        got.push({
          index,
          renew: () => Promise.resolve(),
          release: () => {
            set.delete(index);
            return Promise.resolve();
          },
        });
      }
      return Promise.resolve(got);
    },
  };
  return table;
}
