/**
 * Reads an environment variable wherever ionsweep runs: Deno, Node, or a browser (which has none).
 * Undefined when it is unset, or when the process may not read the environment.
 */
export function environmentVariable(name: string): string | undefined {
  const env = globalThis as { Deno?: { env: { get(k: string): string | undefined } }; process?: { env: Record<string, string | undefined> } };
  try {
    return env.Deno?.env.get(name) ?? env.process?.env?.[name];
  } catch {
    return undefined; // no permission to read the environment
  }
}
