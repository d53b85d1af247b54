/** `hf:org/name[@revision]` model references and the Hub's rules for repo ids. */
import { HubError } from '../errors';

export const HUB_PREFIX = 'hf:';
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubRepoSpec {
  /** "org/name" (or a legacy single name such as "gpt2") */
  repo: string;
  /** branch, tag or 40-hex commit; default "main" */
  revision: string;
}

const PART = /^[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9_])?$/;

/** Throws a message naming the id when it cannot be a Hub model repo id. */
export function checkRepoId(repo: string): void {
  const parts = repo.split('/');
  const ok = parts.length >= 1 && parts.length <= 2 && parts.every((p) => PART.test(p) && !p.includes('..') && !p.includes('--'));
  if (!ok) {
    throw new HubError(
      repo,
      `"${repo}" is not a Hugging Face model id; write it as org/name, e.g. HuggingFaceTB/SmolLM2-135M (letters, digits, "-", "_", ".")`,
    );
  }
}

/** Parses `hf:org/name`, `hf:org/name@revision` (the prefix is optional). */
export function parseHubSpec(spec: string): HubRepoSpec {
  const s = spec.startsWith(HUB_PREFIX) ? spec.slice(HUB_PREFIX.length) : spec;
  const at = s.indexOf('@');
  const repo = at < 0 ? s : s.slice(0, at);
  const revision = at < 0 ? 'main' : s.slice(at + 1);
  checkRepoId(repo);
  if (!/^[\w./-]{1,200}$/.test(revision) || revision.includes('..')) throw new HubError(repo, `"${revision}" is not a valid revision (branch, tag or commit) of ${repo}`);
  return { repo, revision };
}

export const isHubSpec = (s: string): boolean => s.startsWith(HUB_PREFIX);

export const isCommitHash = (rev: string): boolean => /^[0-9a-f]{40}$/.test(rev);

/** The Hub address: an explicit one, else HF_ENDPOINT's convention, else huggingface.co; no trailing slash. */
export function hubEndpoint(explicit?: string | null): string {
  const e = (explicit ?? '').trim() || DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(e);
  } catch {
    throw new HubError('', `hub endpoint "${e}" is not a URL (HF_ENDPOINT must look like https://huggingface.co)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HubError('', `hub endpoint "${e}" must be an http(s) URL`);
  return e.replace(/\/+$/, '');
}
