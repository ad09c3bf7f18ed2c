/** The page state the browser tests read: `window.__ionsweep`, loosely typed on purpose. */
declare global {
  interface Window {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    __ionsweep?: Record<string, any>;
  }
}

export function exposeHook(hook: Record<string, unknown>): void {
  window.__ionsweep = hook;
}
