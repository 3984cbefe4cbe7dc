/** Gateway calls still running. A clean stop waits for them: each records its row on the way out. */
export type InFlightCalls = {
  begin(): void;
  end(): void;
  /** Resolves true once no call is running, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
};

/** One tracker per app (src/runtime.ts): the server's stop drains it before closing the database. */
export function trackInFlightCalls(): InFlightCalls {
  let running = 0;
  let waiters: (() => void)[] = [];
  return {
    begin() {
      running++;
    },
    end() {
      running--;
      if (running > 0 || waiters.length === 0) return;
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    },
    idle(timeoutMs) {
      if (running === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
  };
}
