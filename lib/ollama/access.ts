/**
 * Who may use the facade from a web browser, decided before any route runs (Ollama's model: its
 * CORS middleware with OLLAMA_ORIGINS, and its allowed-hosts check against DNS rebinding).
 * - Origin: a request carrying a foreign `Origin` is refused (403). Allowed: pages on this host
 *   (localhost, 127.0.0.1, [::1], 0.0.0.0, this machine's name, any port), app-like schemes (app://, file://, tauri://,
 *   vscode-webview://, vscode-file://) and the origins the node allows (`*` wildcards).
 * - Host: a `Host` that is not an IP address, a loopback name (localhost, *.localhost), the bound
 *   address or this machine's name is refused (403): a page whose name was re-pointed at this
 *   host by its DNS (rebinding) is same-origin with the facade and could read the answers.
 * - Content type: a browser can POST text/plain, form and multipart bodies to any site without
 *   asking first (no CORS preflight). A POST from a browser (it carries `Origin` or `Sec-Fetch-Site`)
 *   must therefore be application/json, or it is refused (415) before anything runs. Scripts
 *   (curl -d, the ollama and openai clients) send no such headers and keep working.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-io';

export interface AccessPolicy {
  /** Extra allowed origins, e.g. `https://chat.example.com`, `http://192.168.1.*:8080`; `*` allows every origin. */
  origins?: readonly string[];
  /** Extra allowed Host names, e.g. `robot.example.com`, `*.lan`; `*` allows every name. */
  hosts?: readonly string[];
}

/** Pages on this machine (any port) and the app-like schemes Ollama allows by default. */
const DEFAULT_ORIGINS = [
  /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0)(:\d+)?$/i,
  /^(app|file|tauri|vscode-webview|vscode-file):\/\/[^/]*$/i,
];

const ALLOW_METHODS = 'GET, HEAD, POST, OPTIONS';
const ALLOW_HEADERS = 'Authorization, Content-Type, User-Agent, Accept, X-Requested-With';

/** A comma- or whitespace-separated list from the editor (OLLAMA_ORIGINS style). */
export function parseList(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * `*` alone matches everything; inside a pattern it stands for one name part or a port, so that
 * `http://192.168.1.*:8080` does not also admit a page at `http://192.168.1.attacker.example:8080`.
 */
export function globPattern(pattern: string): RegExp {
  if (pattern === '*') return /^/;
  return new RegExp(`^${pattern.split('*').map(escapeRe).join('[^./:]*')}$`, 'i');
}

function escapeRe(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export class Access {
  private readonly origins: RegExp[];
  private readonly hosts: string[];
  private readonly hostPatterns: RegExp[];

  constructor(policy: AccessPolicy, boundHost: string) {
    const me = hostname().toLowerCase();
    // Pages served by this machine under its own name (the Node-RED dashboard at http://<name>.local:1880).
    const own = [me, `${me}.local`, boundHost.toLowerCase()].filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::');
    const ownOrigins = own.map((h) => new RegExp(`^https?://${escapeRe(h)}(:\\d+)?$`, 'i'));
    this.origins = [...DEFAULT_ORIGINS, ...ownOrigins, ...(policy.origins ?? []).map(globPattern)];
    this.hosts = [boundHost.toLowerCase(), me, `${me}.local`];
    this.hostPatterns = (policy.hosts ?? []).map(globPattern);
  }

  originAllowed(origin: string): boolean {
    return this.origins.some((re) => re.test(origin));
  }

  hostAllowed(header: string | undefined): boolean {
    // HTTP/1.0 clients may omit Host; browsers never do.
    if (header === undefined || header === '') return true;
    const name = hostName(header);
    if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
    return this.hosts.includes(name) || this.hostPatterns.some((re) => re.test(name));
  }

  /**
   * Throws the refusal for a request the policy does not admit; otherwise returns the CORS headers
   * its answer carries (none without an Origin).
   */
  admit(req: IncomingMessage): Record<string, string> {
    if (!this.hostAllowed(req.headers.host)) {
      throw new HttpError(403, `the Host "${req.headers.host}" is not allowed: use this machine's address or add the name to the API node's allowed hosts`, 'forbidden');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin)) {
      throw new HttpError(403, `requests from the web page origin "${origin}" are not allowed: add it to the API node's allowed origins`, 'forbidden');
    }
    const method = req.method ?? 'GET';
    if (method === 'POST' && fromBrowser(req) && !isJson(req.headers['content-type'])) {
      throw new HttpError(415, `a web page must send the request body as "Content-Type: application/json", not "${req.headers['content-type'] ?? 'none'}": form and text posts can come from any site and are refused`, 'unsupported_media_type');
    }
    if (origin === undefined) return { Vary: 'Origin' };
    return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  }

  /** The answer to a CORS preflight from an admitted origin. */
  preflightHeaders(req: IncomingMessage): Record<string, string> {
    const requested = req.headers['access-control-request-headers'];
    return {
      'Access-Control-Allow-Methods': ALLOW_METHODS,
      'Access-Control-Allow-Headers': typeof requested === 'string' && requested !== '' ? requested : ALLOW_HEADERS,
      'Access-Control-Max-Age': '600',
    };
  }
}

/**
 * Headers every current browser adds to a cross-site POST and no HTTP library adds by itself
 * (Node's fetch sends `Sec-Fetch-Mode: cors`, so that one does not count).
 */
function fromBrowser(req: IncomingMessage): boolean {
  const h = req.headers;
  return h.origin !== undefined || h['sec-fetch-site'] !== undefined || h['sec-fetch-dest'] !== undefined;
}

function isJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}
