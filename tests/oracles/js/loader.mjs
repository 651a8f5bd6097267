/*
 * Offline JSON-LD document loader for the badgekiln VC verifier oracle.
 *
 * Serves, and ONLY serves:
 *   (a) the JSON-LD contexts shipped in src/badgekiln/data/contexts under
 *       their canonical URLs (CONTEXT_FILES below);
 *   (b) any URL under the site's base URL (and any extra --map PREFIX=DIR
 *       mounts) from the matching file in the site directory;
 *   (c) did:web DIDs (resolved per the did:web spec to an HTTPS URL, which
 *       must then fall under (b)) and their verification-method fragments;
 *   (d) did:key DIDs / key ids (computed locally, no I/O).
 * Everything else is refused with an error containing "offline: not allowed".
 */
import fs from 'node:fs';
import path from 'node:path';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver as didKeyDriverFactory} from '@digitalbazaar/did-method-key';

export const OFFLINE_ERROR = 'offline: not allowed';

// file name in the contexts dir -> canonical URL (spec README section 6)
export const CONTEXT_FILES = {
  'credentials-v1.jsonld': 'https://www.w3.org/2018/credentials/v1',
  'credentials-v2.jsonld': 'https://www.w3.org/ns/credentials/v2',
  'data-integrity-v2.jsonld': 'https://w3id.org/security/data-integrity/v2',
  'did-v1.jsonld': 'https://www.w3.org/ns/did/v1',
  'multikey-v1.jsonld': 'https://w3id.org/security/multikey/v1',
  'jwk-v1.jsonld': 'https://w3id.org/security/jwk/v1',
  'ob-v3p0-context-3.0.3.json':
    'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
  'ob-v3p0-extensions.json':
    'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
  'openbadges-v2.jsonld': 'https://w3id.org/openbadges/v2',
  'vc-bitstring-status-list-v1.jsonld':
    'https://www.w3.org/ns/credentials/status/v1',
};

export class OfflineError extends Error {
  constructor(url, reason) {
    super(`${OFFLINE_ERROR}: ${url}${reason ? ` (${reason})` : ''}`);
    this.name = 'OfflineError';
    this.url = url;
  }
}

/** Load the context files of `dir` into a Map url -> parsed JSON. */
export function loadContexts(dir) {
  const contexts = new Map();
  for(const [file, url] of Object.entries(CONTEXT_FILES)) {
    const p = path.join(dir, file);
    if(fs.existsSync(p)) {
      contexts.set(url, JSON.parse(fs.readFileSync(p, 'utf8')));
    }
  }
  if(contexts.size === 0) {
    throw new Error(`no context files found in "${dir}"`);
  }
  return contexts;
}

/**
 * did:web DID (no fragment) -> HTTPS URL of its did.json, per
 * https://w3c-ccg.github.io/did-method-web/#read-resolve
 *   did:web:example.org             -> https://example.org/.well-known/did.json
 *   did:web:example.org:a:b         -> https://example.org/a/b/did.json
 *   did:web:localhost%3A8443:badges -> https://localhost:8443/badges/did.json
 */
export function didWebToUrl(did) {
  if(!did.startsWith('did:web:')) {
    throw new Error(`not a did:web DID: ${did}`);
  }
  const msid = did.slice('did:web:'.length);
  if(!msid || /[?#/]/.test(msid)) {
    throw new Error(`invalid did:web identifier: ${did}`);
  }
  const parts = msid.split(':').map(p => decodeURIComponent(p));
  if(parts.some(p => p === '' || p.includes('/'))) {
    throw new Error(`invalid did:web identifier: ${did}`);
  }
  const [host, ...segs] = parts;
  const p = segs.length ? `/${segs.join('/')}/did.json` :
    '/.well-known/did.json';
  return `https://${host}${p}`;
}

function splitFragment(url) {
  const i = url.indexOf('#');
  return i === -1 ? [url, null] : [url.slice(0, i), url.slice(i + 1)];
}

/** Find the node with `id` === targetId anywhere in `doc` (absolute or
 * relative "#frag" ids both accepted). */
function findNode(doc, baseId, fragment) {
  const wanted = new Set([`${baseId}#${fragment}`, `#${fragment}`]);
  const seen = new Set();
  const walk = v => {
    if(!v || typeof v !== 'object' || seen.has(v)) {
      return null;
    }
    seen.add(v);
    if(!Array.isArray(v) && typeof v.id === 'string' && wanted.has(v.id)) {
      return v;
    }
    for(const child of Array.isArray(v) ? v : Object.values(v)) {
      const r = walk(child);
      if(r) {
        return r;
      }
    }
    return null;
  };
  return walk(doc);
}

export class SiteLoader {
  /**
   * @param {object} o
   * @param {string} o.siteDir - directory served at baseUrl
   * @param {string} o.baseUrl - e.g. https://badges.example.org/
   * @param {string} o.contextsDir - directory with the context files
   * @param {Array<[string,string]>} [o.mounts] - extra [urlPrefix, dir]
   */
  constructor({siteDir, baseUrl, contextsDir, mounts = []}) {
    this.contexts = loadContexts(contextsDir);
    this.mounts = [[baseUrl, siteDir], ...mounts].map(([prefix, dir]) => {
      const u = new URL(prefix);
      if(u.protocol !== 'https:' && u.protocol !== 'http:') {
        throw new Error(`base URL must be http(s): ${prefix}`);
      }
      if(u.search || u.hash) {
        throw new Error(`base URL must not have query/fragment: ${prefix}`);
      }
      let p = u.pathname;
      if(!p.endsWith('/')) {
        p += '/';
      }
      return {origin: u.origin, pathPrefix: p, dir: path.resolve(dir)};
    });
    this.cache = new Map();
    this.log = [];
    this.didKeyDriver = didKeyDriverFactory();
    this.didKeyDriver.use({
      multibaseMultikeyHeader: 'z6Mk',
      fromMultibase: Ed25519Multikey.from
    });
    this.documentLoader = this.documentLoader.bind(this);
  }

  /** URL -> absolute file path in a mounted dir, or null. */
  urlToPath(url) {
    let u;
    try {
      u = new URL(url);
    } catch{
      return null;
    }
    if(u.search || u.hash || u.username || u.password) {
      return null;
    }
    for(const m of this.mounts) {
      if(u.origin !== m.origin) {
        continue;
      }
      let rel;
      if(u.pathname === m.pathPrefix.slice(0, -1)) {
        rel = '';
      } else if(u.pathname.startsWith(m.pathPrefix)) {
        rel = u.pathname.slice(m.pathPrefix.length);
      } else {
        continue;
      }
      if(rel === '' || rel.endsWith('/')) {
        return null; // directory index not served (JSON only)
      }
      const segs = rel.split('/').map(s => decodeURIComponent(s));
      if(segs.some(s => s === '' || s === '.' || s === '..' ||
        s.includes('/') || s.includes('\\') || s.includes('\0'))) {
        return null;
      }
      const p = path.join(m.dir, ...segs);
      if(!p.startsWith(m.dir + path.sep)) {
        return null;
      }
      return p;
    }
    return null;
  }

  _readJson(url) {
    const p = this.urlToPath(url);
    if(!p) {
      throw new OfflineError(url, 'not under --base-url / --map');
    }
    if(!fs.existsSync(p) || !fs.statSync(p).isFile()) {
      throw new Error(`not found: ${url} (no file ${p})`);
    }
    try {
      return JSON.parse(fs.readFileSync(p, 'utf8'));
    } catch(e) {
      throw new Error(`invalid JSON in ${p} (for ${url}): ${e.message}`);
    }
  }

  async _resolveDidWeb(did) {
    const url = didWebToUrl(did);
    let doc;
    try {
      doc = this._readJson(url);
    } catch(e) {
      e.message = `did:web resolution of ${did} via ${url} failed: ` +
        e.message;
      throw e;
    }
    if(doc.id !== did) {
      throw new Error(
        `did:web resolution: DID document at ${url} has id ` +
        `"${doc.id}", expected "${did}"`);
    }
    return doc;
  }

  async _load(url) {
    if(typeof url !== 'string') {
      throw new TypeError(`URL must be a string, got ${typeof url}`);
    }
    if(this.contexts.has(url)) {
      return this.contexts.get(url);
    }
    const [base, fragment] = splitFragment(url);
    if(base.startsWith('did:key:')) {
      const doc = await this.didKeyDriver.get({url});
      // plain JSON (drop class instances)
      return JSON.parse(JSON.stringify(doc));
    }
    let doc;
    if(base.startsWith('did:web:')) {
      doc = await this._resolveDidWeb(base);
    } else if(/^https?:\/\//i.test(base)) {
      doc = this._readJson(base);
    } else {
      throw new OfflineError(url, 'unsupported scheme');
    }
    if(fragment === null) {
      return doc;
    }
    const node = findNode(doc, base, fragment);
    if(!node) {
      throw new Error(`fragment "#${fragment}" not found in ${base}`);
    }
    const out = {...node};
    if(!out['@context'] && doc['@context']) {
      out['@context'] = doc['@context'];
    }
    if(out.id && out.id.startsWith('#')) {
      out.id = base + out.id;
    }
    if(typeof out.controller === 'string' && out.controller.startsWith('#')) {
      out.controller = base + out.controller;
    }
    return out;
  }

  async documentLoader(url) {
    let document;
    if(this.cache.has(url)) {
      document = this.cache.get(url);
    } else {
      try {
        document = await this._load(url);
      } catch(e) {
        this.log.push({url, ok: false, error: e.message});
        throw e;
      }
      this.cache.set(url, document);
    }
    this.log.push({url, ok: true});
    // deep copy: libraries may mutate what they get
    return {
      contextUrl: null,
      documentUrl: url,
      document: structuredClone(document)
    };
  }
}
