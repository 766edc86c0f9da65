/** What changed between two health payloads, and whether an output mode sends the new one. */
import type { RuntimeState } from '../runtime/types';
import { diffAlerts, type AlertId } from './rules';
import type { HealthPayload } from './snapshot';

/**
 * - `always`: every check is sent.
 * - `change`: the first check, then whenever the runtime state, the level or the set of alerts changes
 *   (not when a reading merely drifts, e.g. 41 → 42 °C).
 * - `alerts`: only alert transitions: an alert raised or changing level, and the recovery when one clears.
 */
export type HealthMode = 'always' | 'change' | 'alerts';

export const HEALTH_MODES: readonly HealthMode[] = ['always', 'change', 'alerts'];

export function isHealthMode(v: unknown): v is HealthMode {
  return typeof v === 'string' && (HEALTH_MODES as readonly string[]).includes(v);
}

/** Sent as `msg.changes` beside the payload. */
export interface HealthChanges {
  /** No earlier check to compare with. */
  first: boolean;
  state: { from: RuntimeState; to: RuntimeState } | null;
  level: { from: HealthPayload['level']; to: HealthPayload['level'] } | null;
  raised: AlertId[];
  cleared: AlertId[];
  /** Alerts still present whose level changed (warning ⇄ critical). */
  changed: AlertId[];
}

export function healthChanges(prev: HealthPayload | null, next: HealthPayload): HealthChanges {
  const diff = diffAlerts(prev?.alerts ?? [], next.alerts);
  return {
    first: prev === null,
    state: prev !== null && prev.state !== next.state ? { from: prev.state, to: next.state } : null,
    level: prev !== null && prev.level !== next.level ? { from: prev.level, to: next.level } : null,
    raised: diff.raised.map((a) => a.id),
    cleared: diff.cleared.map((a) => a.id),
    changed: diff.changed.map((a) => a.id),
  };
}

export function shouldSend(mode: HealthMode, c: HealthChanges): boolean {
  const alertsMoved = c.raised.length > 0 || c.cleared.length > 0 || c.changed.length > 0;
  switch (mode) {
    case 'always':
      return true;
    case 'change':
      return c.first || c.state !== null || c.level !== null || alertsMoved;
    case 'alerts':
      return alertsMoved;
  }
}
