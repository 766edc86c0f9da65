export { ManagedChild, type ChildStream, type ExitInfo, type ManagedChildEvents, type SpawnSpec } from './child';
export { reapOrphan, type ReapOptions, type ReapResult } from './reap';
export { RestartPolicy, type RestartDecision, type RestartPolicyOptions } from './restart-policy';
export { stripAnsi } from './ansi';
export { LineSplitter, type LineSplitterOptions } from './line-splitter';
export { TAIL_LIMIT } from './tail';
export { DEFAULT_STOP, type StopTimings } from './terminate';
export { OWNER_MARKER_VAR, readPidFile, type PidRecord } from './pid-file';
export { provenProcesses } from './reap';
