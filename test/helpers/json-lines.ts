/** The JSON lines of a log the simulator may be appending to right now: a last line without its newline is still being written. */
export function completeJsonLines(text: string): unknown[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
}
