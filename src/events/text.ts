/** Plain-text shaping shared by normalizers, renderers and sinks. */

/** Cut `text` to at most `max` characters, ending with an ellipsis when cut. Never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Collapse newlines and runs of whitespace: compact lines and titles are one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** First line of a commit message or body. */
export function firstLine(text: string): string {
  return (text.split(/\r?\n/, 1)[0] ?? "").trim();
}
