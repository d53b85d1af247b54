/**
 * A local stand-in for the Hugging Face Hub (node:http on 127.0.0.1) serving model repos in the
 * Hub's URL layout, with the routes @huggingface/hub calls when the studio loads a model:
 *   GET  /api/models/<org>/<name>/tree/<rev>?recursive=..&expand=..   the file listing
 *   GET  /<org>/<name>/resolve/<rev>/<file>    small files directly; *.safetensors (LFS) by a 302
 *                                              to /cdn/<sha256>, as the Hub redirects to its CDN
 *   GET  /cdn/<sha256>                         the LFS bytes
 * with Range (206 + Content-Range), ETag / X-Linked-Etag / X-Repo-Commit headers, the Hub's 404s
 * (X-Error-Code RepoNotFound, RevisionNotFound, EntryNotFound), 401 for a gated repo without a
 * token, a request log for tests to count, and a way to cut a download off halfway.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRepo {
  files: Record<string, Uint8Array | string>;
  /** 40-hex commit of `main` (default: derived from the repo id). */
  commit?: string;
  /** Refuse requests without `Authorization: Bearer <token>`. */
  token?: string;
  /** Behave like a mirror that does not send X-Repo-Commit. */
  noCommitHeader?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range?: string;
  auth?: string;
}

interface StoredFile {
  bytes: Uint8Array;
  gitOid: string; // sha1 of "blob <len>\0<bytes>", the Hub's ETag for regular files
  sha256: string; // the LFS oid, the Hub's X-Linked-Etag for LFS files
  lfs: boolean;
}

const isLfs = (path: string) => path.endsWith('.safetensors') || path.endsWith('.bin');

export class HubServer {
  readonly requests: LoggedRequest[] = [];
  /** Bytes of file content sent (LFS and regular), to check that a resume did not start over. */
  bytesServed = 0;
  private server!: Server;
  private repos = new Map<string, { commit: string; token?: string; noCommitHeader?: boolean; files: Map<string, StoredFile> }>();
  private byHash = new Map<string, StoredFile>();
  private cuts = new Map<string, { at: number; times: number }>();
  url = '';

  constructor(repos: Record<string, HubRepo>) {
    for (const [id, r] of Object.entries(repos)) this.setRepo(id, r);
  }

  /** Add or replace a repo (a new commit when `commit` changes). */
  setRepo(id: string, r: HubRepo): void {
    const files = new Map<string, StoredFile>();
    for (const [path, content] of Object.entries(r.files)) {
      const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
      const f: StoredFile = {
        bytes,
        gitOid: createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex'),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        lfs: isLfs(path),
      };
      files.set(path, f);
      this.byHash.set(f.sha256, f);
    }
    const commit = r.commit ?? createHash('sha1').update(id).digest('hex');
    this.repos.set(id, { commit, token: r.token, noCommitHeader: r.noCommitHeader, files });
  }

  /** Requests so far; `reset` clears the log. */
  get count(): number {
    return this.requests.length;
  }

  reset(): void {
    this.requests.length = 0;
    this.bytesServed = 0;
  }

  /**
   * The next `times` downloads of `file`'s content (not the 1-byte size probes) stop at byte
   * `at` of the file (nothing is sent by a request that starts there), the connection dropped.
   */
  cutNextDownload(file: string, at: number, times = 1): void {
    this.cuts.set(file, { at, times });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      try {
        this.handle(req, res);
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? 'GET', path: u.pathname + u.search, range: req.headers.range, auth: req.headers.authorization });
    // CORS as the Hub sends it, so a page on another origin (Playwright) can use the stand-in too.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, ETag, X-Linked-Etag, X-Linked-Size, X-Repo-Commit, X-Error-Code, X-Error-Message, Accept-Ranges');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Headers': 'Range, Authorization, Accept, Content-Type', 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Max-Age': '600' }).end();
      return;
    }
    const path = decodeURIComponent(u.pathname);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(path);
    if (tree) return this.tree(req, res, tree[1], tree[2]);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve) return this.resolve(req, res, resolve[1], resolve[2], resolve[3]);
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn && this.byHash.has(cdn[1])) {
      const f = this.byHash.get(cdn[1])!;
      return this.send(req, res, f, this.fileNameOf(f), { ETag: `"${f.sha256}"` });
    }
    return hubError(res, 404, 'RepoNotFound', 'Repository not found');
  }

  private repo(req: IncomingMessage, res: ServerResponse, id: string, rev: string) {
    const r = this.repos.get(id);
    if (!r) return hubError(res, 404, 'RepoNotFound', 'Repository not found'), null;
    if (r.token && req.headers.authorization !== `Bearer ${r.token}`) {
      return hubError(res, 401, 'GatedRepo', `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`), null;
    }
    if (rev !== 'main' && rev !== r.commit) return hubError(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`), null;
    return r;
  }

  private tree(req: IncomingMessage, res: ServerResponse, id: string, rev: string): void {
    const r = this.repo(req, res, id, rev);
    if (!r) return;
    const entries = [...r.files].map(([path, f]) => ({
      type: 'file', oid: f.gitOid, size: f.bytes.byteLength, path,
      ...(f.lfs ? { lfs: { oid: f.sha256, size: f.bytes.byteLength, pointerSize: 134 } } : {}),
    }));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(entries));
  }

  private resolve(req: IncomingMessage, res: ServerResponse, id: string, rev: string, file: string): void {
    const r = this.repo(req, res, id, rev);
    if (!r) return;
    const f = r.files.get(file);
    if (!f) return hubError(res, 404, 'EntryNotFound', `Entry not found`);
    const common: Record<string, string> = r.noCommitHeader ? {} : { 'X-Repo-Commit': r.commit };
    if (f.lfs) {
      res.writeHead(302, { ...common, Location: `/cdn/${f.sha256}`, 'X-Linked-Etag': `"${f.sha256}"`, 'X-Linked-Size': String(f.bytes.byteLength) }).end();
      return;
    }
    this.send(req, res, f, file, { ...common, ETag: `"${f.gitOid}"` });
  }

  private fileNameOf(f: StoredFile): string {
    for (const r of this.repos.values()) for (const [name, g] of r.files) if (g === f) return name;
    return '';
  }

  /** The body, or the asked range of it; cut off early when a cut is armed for a real download. */
  private send(req: IncomingMessage, res: ServerResponse, f: StoredFile, name: string, headers: Record<string, string>): void {
    const size = f.bytes.byteLength;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (m) {
      start = Number(m[1]);
      end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      if (start >= size && size > 0) return void res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      status = 206;
    }
    const body = f.bytes.subarray(start, end + 1);
    res.writeHead(status, {
      ...headers, 'Accept-Ranges': 'bytes', 'Content-Length': String(body.byteLength), 'Content-Type': 'application/octet-stream',
      ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    const cut = this.cuts.get(name);
    const isProbe = status === 206 && body.byteLength === 1;
    if (cut !== undefined && !isProbe) {
      if (--cut.times === 0) this.cuts.delete(name);
      const part = body.subarray(0, Math.max(0, cut.at - start));
      this.bytesServed += part.byteLength;
      // Flush what we have, then drop the connection mid-body.
      res.write(Buffer.from(part), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    this.bytesServed += body.byteLength;
    res.end(Buffer.from(body));
  }
}

function hubError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Error-Code': code, 'X-Error-Message': message }).end(JSON.stringify({ error: message }));
}

export function startHubServer(repos: Record<string, HubRepo>): Promise<HubServer> {
  return new HubServer(repos).start();
}
