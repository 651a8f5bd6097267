/*
 * Second, independent verifier: @digitalcredentials/verifier-core (the
 * Digital Credentials Consortium verifier used by VerifierPlus / LCW).
 *
 * verifier-core has no documentLoader parameter: it builds its own
 * module-level loader (bundled contexts + did:key/did:web + HTTP fetch of
 * anything else). To keep it OFFLINE we install an undici MockAgent as the
 * global fetch dispatcher BEFORE importing it, with real network disabled:
 *   - URLs under --base-url / --map are answered from the site dir (same
 *     mapping rules as loader.mjs);
 *   - our shipped contexts under their canonical URLs;
 *   - 1EdTech OB 3.0 JSON schema URLs
 *     (https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_<name>_schema.json)
 *     from src/badgekiln/data/schemas/<name>.json (verifier-core's schema check);
 *   - everything else gets HTTP 403 and is listed as "offline: not allowed".
 * Its issuer-registry check is run with an empty registry list (no I/O) and
 * ignored; its schema check is reported as warnings.
 */
import fs from 'node:fs';
import path from 'node:path';
import {MockAgent, setGlobalDispatcher} from 'undici';
import {OFFLINE_ERROR} from './loader.mjs';

const SCHEMA_URL_RE = new RegExp(
  '^https://purl\\.imsglobal\\.org/spec/ob/v3p0/schema/json/' +
  'ob_v3p0_([a-z]+)_schema\\.json$');

let verifierCore = null;
let state = null;

function installMock({loader, schemasDir}) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  setGlobalDispatcher(agent);
  agent.get(() => true)
    .intercept({path: () => true, method: () => true})
    .reply(opts => {
      const url = new URL(opts.path, opts.origin).href;
      const json = body => ({
        statusCode: 200,
        data: typeof body === 'string' ? body : JSON.stringify(body),
        responseOptions: {headers: {'content-type': 'application/json'}}
      });
      if(opts.method === 'GET') {
        if(loader.contexts.has(url)) {
          state.fetched.push(url);
          return json(loader.contexts.get(url));
        }
        const m = SCHEMA_URL_RE.exec(url);
        if(m && schemasDir) {
          const p = path.join(schemasDir, `${m[1]}.json`);
          if(fs.existsSync(p)) {
            state.fetched.push(url);
            return json(fs.readFileSync(p, 'utf8'));
          }
        }
        const p = loader.urlToPath(url);
        if(p) {
          state.fetched.push(url);
          if(fs.existsSync(p) && fs.statSync(p).isFile()) {
            return json(fs.readFileSync(p, 'utf8'));
          }
          return {statusCode: 404, data: 'not found'};
        }
      }
      state.refused.push(url);
      return {statusCode: 403, data: `${OFFLINE_ERROR}: ${url}`};
    })
    .persist();
}

export async function initVerifierCore({loader, schemasDir}) {
  state = {fetched: [], refused: []};
  installMock({loader, schemasDir});
  verifierCore = await import('@digitalcredentials/verifier-core');
}

function stripStacks(v) {
  return JSON.parse(JSON.stringify(v, (k, x) =>
    (k === 'stackTrace' || k === 'stack' || k === 'credential') ?
      undefined : x));
}

/** Map a verifier-core result onto the oracle's result shape. */
export async function verifyOneVerifierCore(file, credential, {checkStatus,
  now}) {
  state.fetched = [];
  state.refused = [];
  const res = {
    credential: file,
    id: typeof credential.id === 'string' ? credential.id : null,
    mode: 'verifier-core',
    verified: false,
    proofVerified: false,
    revoked: null,
    suspended: null,
    statusChecked: false,
    errors: [],
    warnings: [],
    statusResult: null,
    loaded: [],
    raw: null
  };
  let raw;
  try {
    raw = await verifierCore.verifyCredential({credential,
      knownDIDRegistries: []});
  } catch(e) {
    raw = {errors: [{name: 'exception', message: e.message}]};
  }
  raw = stripStacks(raw);
  res.raw = raw;
  const msg = e => (e && (e.message || e.name)) || String(e);
  for(const e of raw.errors || []) {
    res.errors.push(`${e.name ? e.name + ': ' : ''}${msg(e)}`);
  }
  const log = raw.log || [];
  const step = id => log.find(s => s.id === id);
  const sig = step('valid_signature');
  res.proofVerified = !!(sig && sig.valid === true) && !raw.errors;
  const exp = step('expiration');
  if(exp && exp.valid === false) {
    res.errors.push('expiration: credential is expired');
  }
  const rev = step('revocation_status');
  if(rev && checkStatus) {
    res.statusChecked = true;
    if(rev.error) {
      res.errors.push(`revocation_status: ${msg(rev.error)}`);
      res.statusResult = {verified: false, error: msg(rev.error),
        results: []};
    } else {
      res.revoked = rev.valid === false;
      res.statusResult = {verified: true, results: [
        {verified: true, status: res.revoked, statusPurpose: 'revocation'}]};
      if(res.revoked) {
        res.errors.push('credential is revoked (status list bit set)');
      }
    }
  }
  // @digitalcredentials/vc logs one step per credentialStatus entry, named
  // `${statusPurpose}_status` (lib/index.js addStatusInfoToLog): a suspended
  // credential has {id: 'suspension_status', valid: false}.
  const sus = step('suspension_status');
  if(sus && checkStatus && !sus.error) {
    res.suspended = sus.valid === false;
    if(res.statusResult && res.statusResult.results) {
      res.statusResult.results.push(
        {verified: true, status: res.suspended, statusPurpose: 'suspension'});
    }
    if(res.suspended) {
      res.errors.push('credential is suspended (status list bit set)');
    }
  }
  if(rev && !checkStatus) {
    res.warnings.push('status not checked (--no-status): verifier-core ' +
      'still fetched the list but its result is ignored');
  }
  for(const s of log) {
    if(s.error && s.id !== 'revocation_status' && s.id !== 'suspension_status') {
      res.errors.push(`${s.id}: ${msg(s.error)}`);
    }
  }
  for(const info of raw.additionalInformation || []) {
    for(const r of info.results || []) {
      if(r.result && r.result.valid === false) {
        for(const e of r.result.errors || []) {
          res.warnings.push(`${info.id} ${r.schema}: ${e.instancePath || '/'}` +
            ` ${e.message}`);
        }
      }
    }
  }
  const statusUrls = new Set([].concat(credential.credentialStatus || [])
    .map(cs => cs && cs.statusListCredential));
  for(const u of state.refused) {
    if(!checkStatus && statusUrls.has(u)) {
      continue;
    }
    res.errors.push(`${OFFLINE_ERROR}: ${u}`);
  }
  if(now) {
    res.warnings.push('--now is not supported by verifier-core (uses the ' +
      'real clock)');
  }
  res.verified = res.proofVerified && !(exp && exp.valid === false) &&
    res.errors.length === 0;
  res.loaded = [...new Set(state.fetched)];
  return res;
}
