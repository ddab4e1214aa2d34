/**
 * Route globs: `*` matches any run of characters (including `/` and `.`), everything else is literal,
 * comparison ignores case (GitHub owner/repo names and Linear team keys are case-insensitive).
 */
const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let pattern = cache.get(glob);
  if (!pattern) {
    const body = glob
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    pattern = new RegExp(`^${body}$`, "i");
    cache.set(glob, pattern);
  }
  return pattern;
}

export function matchesAnyGlob(value: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(value));
}
