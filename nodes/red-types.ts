/**
 * The slice of the Node-RED runtime API these nodes use, typed strictly. (@types/node-red is dated
 * and leaks `any`; this file is the one place the adapters meet Node-RED's shapes.)
 */
export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  topic?: string;
  parts?: MessageParts;
  [key: string]: unknown;
}

export interface MessageParts {
  id: string;
  type?: string;
  ch?: string;
  index: number;
  count?: number;
  parts?: MessageParts;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null> | null) => void;
export type DoneFn = (err?: Error) => void;

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface Node {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | Array<NodeMessage | null> | null): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(msg: string): void;
  warn(msg: string): void;
  error(err: string | Error, msg?: NodeMessage): void;
  debug(msg: string): void;
}

export interface AdminPermissionMiddleware {
  (req: unknown, res: unknown, next: () => void): void;
}

export interface HttpRequest {
  body: unknown;
  query: Record<string, string | undefined>;
}

export interface HttpResponse {
  json(body: unknown): void;
  status(code: number): HttpResponse;
}

export interface NodeAPI {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    registerType(type: string, ctor: (this: Node, def: NodeDef) => void, opts?: { credentials?: Record<string, { type: string }> }): void;
    getNode(id: string): Node | null;
  };
  util: {
    cloneMessage<T extends NodeMessage>(msg: T): T;
    generateId(): string;
    evaluateNodeProperty(value: string, type: string, node: Node, msg: NodeMessage, cb: (err: Error | null, value: unknown) => void): void;
  };
  settings: { userDir?: string; [key: string]: unknown };
  httpAdmin: {
    get(path: string, perm: AdminPermissionMiddleware, handler: (req: HttpRequest, res: HttpResponse) => void): void;
    post(path: string, perm: AdminPermissionMiddleware, handler: (req: HttpRequest, res: HttpResponse) => void): void;
  };
  auth: { needsPermission(permission: string): AdminPermissionMiddleware };
  _(key: string, params?: Record<string, string | number>): string;
}
