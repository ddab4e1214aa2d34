/**
 * Checks command modules against the contract and indexes them by name. A command file that breaks the
 * contract (no handler, bad name, unknown capability) stops start-up with the file's command name.
 */
import type { Command } from "./commands/command.js";
import { commandSchema } from "./commands/command.js";

export function buildCommandRegistry(modules: readonly unknown[]): Map<string, Command> {
  const registry = new Map<string, Command>();
  modules.forEach((module, index) => {
    const parsed = commandSchema.safeParse(module);
    if (!parsed.success) {
      const name = (module as { data?: { name?: unknown } })?.data?.name ?? `#${index}`;
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join(".") || "(command)"}: ${issue.message}`,
      );
      throw new Error(`Command ${String(name)} does not follow the command contract: ${problems.join("; ")}`);
    }
    const command = module as Command;
    if (registry.has(command.data.name)) throw new Error(`Two commands are named "${command.data.name}".`);
    registry.set(command.data.name, command);
  });
  return registry;
}
