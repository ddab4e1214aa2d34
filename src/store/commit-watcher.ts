/**
 * Notices commits that other connections make to a SQLite file. In the PM2 layout the worker process learns
 * of a delivery the web process stored only by looking; polling the inbox every 100 ms added up to 100 ms to
 * every notification. `PRAGMA data_version` changes whenever another connection has committed, and reading
 * it touches only shared memory (microseconds), so it can be asked far more often than the inbox query.
 */
import type { Database } from "better-sqlite3";

export interface CommitWatcher {
  stop(): void;
}

export function watchOtherCommits(
  sqlite: Database,
  options: { intervalMs: number; onCommit: () => void },
): CommitWatcher {
  const dataVersion = sqlite.prepare("pragma data_version").pluck();
  let seen = dataVersion.get();
  const timer = setInterval(() => {
    // A closed or failing connection is the store's to report; the worker's own poll goes on regardless.
    if (!sqlite.open) return;
    let current: unknown;
    try {
      current = dataVersion.get();
    } catch {
      return;
    }
    if (current === seen) return;
    seen = current;
    options.onCommit();
  }, options.intervalMs);
  // Never what keeps a process alive.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
