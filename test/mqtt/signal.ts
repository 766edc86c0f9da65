/** Waits until a condition over recorded events holds, re-checking whenever a new event is recorded. */
export class Signal {
  private waiters: Array<() => void> = [];

  notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  async until(pred: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }
}
