// A store whose commit is wrapped (slowed, failing, racing, …); every other method is the store's.
import type { CommitEntry, CommitResult, Store } from '../../src/state/store.ts';

export function withCommit(
  store: Store,
  commit: (entries: readonly CommitEntry[]) => Promise<CommitResult>,
): Store {
  return Object.assign(Object.create(store) as Store, {
    commit,
  });
}
