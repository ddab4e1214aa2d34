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

/** `3 d 4 h`, `2 h 5 min`, `42 s`: the two largest units. */
export function formatDuration(totalSeconds: number): string {
  const units = [
    { label: "d", seconds: 86_400 },
    { label: "h", seconds: 3600 },
    { label: "min", seconds: 60 },
    { label: "s", seconds: 1 },
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.floor(totalSeconds));
  for (const unit of units) {
    const value = Math.floor(rest / unit.seconds);
    rest -= value * unit.seconds;
    if (value > 0 || (unit.label === "s" && parts.length === 0)) parts.push(`${value} ${unit.label}`);
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}
