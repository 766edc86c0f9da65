/**
 * Terminal escape sequences the vendor runtime wraps its log lines in (sample_log.h colours every
 * ALOG line, cqdm.cpp colours the progress bar). Matching runs on text with these removed.
 */
const ESCAPES = new RegExp(
  [
    // CSI: ESC [ parameters intermediates final (colours, cursor moves, erase-line).
    '\\u001b\\[[0-?]*[ -/]*[@-~]',
    // OSC: ESC ] ... terminated by BEL or ESC \ (window titles, hyperlinks).
    '\\u001b\\][^\\u0007\\u001b]*(?:\\u0007|\\u001b\\\\)',
    // Two-byte escapes (ESC 7, ESC M, ESC c, ...); ESC [ is always CSI, matched above.
    '\\u001b[0-Z\\\\-~]',
    // 8-bit CSI.
    '\\u009b[0-?]*[ -/]*[@-~]',
  ].join('|'),
  'g',
);

export function stripAnsi(s: string): string {
  return s.includes('\u001b') || s.includes('\u009b') ? s.replace(ESCAPES, '') : s;
}
