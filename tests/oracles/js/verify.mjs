#!/usr/bin/env node
/*
 * badgekiln VC verifier oracle (offline), built on the Digital Bazaar libs.
 *
 * Usage:
 *   node verify.mjs --credential FILE --site-dir DIR --base-url URL
 *                   [--now ISO] [--no-status] [--contexts DIR]
 *                   [--map URLPREFIX=DIR ...]
 *   node verify.mjs --credentials-list LIST --site-dir DIR --base-url URL ...
 *        LIST = JSON array of paths, or one path per line; prints a JSON array
 *   node verify.mjs --resolve URL [--resolve URL2 ...] --site-dir DIR --base-url URL
 *        prints what the offline document loader returns for URL
 *        ({url, ok, document|error}; a JSON array if --resolve is repeated)
 *
 * Prints ONE JSON value on stdout and exits 0 whenever it produced a result
 * (even "verified": false). Exit 2 = usage error, 1 = internal crash.
 *
 * Result (one credential):
 *   {credential, id, mode, verified, proofVerified, revoked, suspended,
 *    statusChecked, errors: [string], warnings: [string], statusResult,
 *    loaded: [url], elapsedMs}
 *   verified      = proof + purpose + dates OK, status check (if any) OK,
 *                   and not revoked/suspended.
 *   proofVerified = raw verdict of vc.verifyCredential (Digital Bazaar
 *                   semantics: a revoked credential still has
 *                   proofVerified=true as long as its status list verified).
 *   revoked       = true/false from the "revocation" status entry, null if
 *                   no such entry or status not checked.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus as bslCheckStatus} from
  '@digitalbazaar/vc-bitstring-status-list';
import {SiteLoader} from './loader.mjs';

// stdout carries exactly one JSON document: keep library chatter off it
console.log = console.info = console.debug = (...a) => console.error(...a);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_CONTEXTS = path.resolve(
  HERE, '../../../src/badgekiln/data/contexts');
const DEFAULT_SCHEMAS = path.resolve(
  HERE, '../../../src/badgekiln/data/schemas');
const MODES = ['digitalbazaar', 'verifier-core'];
const MAX_CLOCK_SKEW = 300; // seconds, same default as @digitalbazaar/vc

const USAGE = `usage:
  node verify.mjs (--credential FILE | --credentials-list FILE | --resolve URL)
                  --site-dir DIR --base-url URL
                  [--now ISO] [--no-status] [--contexts DIR]
                  [--map URLPREFIX=DIR]...
                  [--mode digitalbazaar|verifier-core] [--schemas DIR]`;

function usage(msg) {
  process.stderr.write(`verify.mjs: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function errorMessages(err, out = [], seen = new Set()) {
  if(!err || seen.has(err)) {
    return out;
  }
  seen.add(err);
  if(Array.isArray(err)) {
    err.forEach(e => errorMessages(e, out, seen));
    return out;
  }
  const msg = typeof err === 'string' ? err :
    (err.message || String(err));
  // VerificationError is just a wrapper: report its inner errors
  if(!(err.name === 'VerificationError' && Array.isArray(err.errors))) {
    if(msg && !out.includes(msg)) {
      out.push(msg);
    }
  }
  if(Array.isArray(err.errors)) {
    err.errors.forEach(e => errorMessages(e, out, seen));
  }
  if(err.cause) {
    errorMessages(err.cause, out, seen);
  }
  return out;
}

function collectErrors(result) {
  const out = [];
  errorMessages(result.error, out);
  for(const r of result.results || []) {
    errorMessages(r.error, out);
    if(r.purposeResult && r.purposeResult.error) {
      errorMessages(r.purposeResult.error, out);
    }
  }
  if(result.statusResult) {
    errorMessages(result.statusResult.error, out);
    for(const r of result.statusResult.results || []) {
      errorMessages(r.error, out);
    }
  }
  return out;
}

function summarizeStatus(statusResult) {
  if(!statusResult) {
    return null;
  }
  if(statusResult.skipped) {
    return {verified: true, skipped: true, results: []};
  }
  const out = {verified: !!statusResult.verified, results: []};
  if(statusResult.error) {
    out.error = errorMessages(statusResult.error).join('; ');
  }
  for(const r of statusResult.results || []) {
    const cs = r.credentialStatus || {};
    out.results.push({
      verified: !!r.verified,
      status: typeof r.status === 'boolean' ? r.status : null,
      statusPurpose: cs.statusPurpose ?? null,
      statusListCredential: cs.statusListCredential ?? null,
      statusListIndex: cs.statusListIndex ?? null,
      ...(r.error ? {error: errorMessages(r.error).join('; ')} : {})
    });
  }
  return out;
}

function statusFor(summary, purpose) {
  if(!summary || summary.skipped) {
    return null;
  }
  const rs = summary.results.filter(r => r.statusPurpose === purpose &&
    typeof r.status === 'boolean');
  if(rs.length === 0) {
    return null;
  }
  return rs.some(r => r.status === true);
}

function readCredential(file) {
  let credential;
  try {
    credential = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch(e) {
    return {error: `cannot read credential: ${e.message}`};
  }
  if(!credential || typeof credential !== 'object' ||
    Array.isArray(credential)) {
    return {error: 'credential JSON must be an object'};
  }
  return {credential};
}

async function verifyFile(file, opts) {
  const t0 = performance.now();
  const {credential, error} = readCredential(file);
  let res;
  if(error) {
    res = {credential: file, id: null, mode: opts.mode, verified: false,
      proofVerified: false, revoked: null, suspended: null,
      statusChecked: false, errors: [error], warnings: [], statusResult: null,
      loaded: []};
  } else if(opts.mode === 'verifier-core') {
    res = await opts.vcore.verifyOneVerifierCore(file, credential, opts);
  } else {
    res = await verifyOne(file, credential, opts);
  }
  res.elapsedMs = Math.round(performance.now() - t0);
  return res;
}

async function verifyOne(file, credential, {loader, checkStatus, now}) {
  const res = {
    credential: file,
    id: null,
    mode: 'digitalbazaar',
    verified: false,
    proofVerified: false,
    revoked: null,
    suspended: null,
    statusChecked: false,
    errors: [],
    warnings: [],
    statusResult: null,
    loaded: []
  };
  loader.log = [];
  res.id = typeof credential.id === 'string' ? credential.id : null;
  const hasStatus = credential.credentialStatus !== undefined;

  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  const statusFn = checkStatus ?
    options => bslCheckStatus({
      ...options,
      // the status list credential is verified with the same suite/loader
      verifyBitstringStatusListCredential: true,
      verifyMatchingIssuers: true
    }) :
    async () => ({verified: true, skipped: true});

  let result;
  try {
    result = await vc.verifyCredential({
      credential,
      suite,
      documentLoader: loader.documentLoader,
      checkStatus: statusFn,
      ...(now ? {now} : {}),
      maxClockSkew: MAX_CLOCK_SKEW
    });
  } catch(e) {
    result = {verified: false, error: e};
  }
  res.proofVerified = !!result.verified;
  res.errors = collectErrors(result);
  res.statusResult = summarizeStatus(result.statusResult);
  res.statusChecked = !!(hasStatus && checkStatus && result.statusResult);
  res.revoked = statusFor(res.statusResult, 'revocation');
  res.suspended = statusFor(res.statusResult, 'suspension');
  if(res.revoked) {
    res.errors.push('credential is revoked (status list bit set)');
  }
  if(res.suspended) {
    res.errors.push('credential is suspended (status list bit set)');
  }
  res.verified = res.proofVerified && !res.revoked && !res.suspended;

  // extra, non-library observations (never change `verified`)
  const nowDate = now ? new Date(now) : new Date();
  for(const p of [].concat(credential.proof || [])) {
    if(p && typeof p.created === 'string') {
      const c = new Date(p.created);
      if(isNaN(c)) {
        res.warnings.push(`proof.created "${p.created}" is not a date`);
      } else if(c - nowDate > MAX_CLOCK_SKEW * 1000) {
        res.warnings.push(
          `proof.created ${p.created} is in the future (now ` +
          `${nowDate.toISOString()})`);
      }
    }
  }
  if(hasStatus && checkStatus) {
    res.warnings.push(...statusListWarnings(credential, loader));
  }
  if(hasStatus && !checkStatus) {
    res.warnings.push('status not checked (--no-status)');
  }
  res.loaded = [...new Set(loader.log.map(l => l.url))];
  return res;
}

const MIN_LIST_BITS = 131072; // W3C Bitstring Status List minimum (16 KiB)

/** Spec checks the library is lenient about; reported as warnings only. */
function statusListWarnings(credential, loader) {
  const out = [];
  for(const cs of [].concat(credential.credentialStatus || [])) {
    if(!cs || cs.type !== 'BitstringStatusListEntry') {
      continue;
    }
    if(typeof cs.statusListIndex !== 'string') {
      out.push('credentialStatus.statusListIndex should be a string ' +
        `(got ${typeof cs.statusListIndex})`);
    }
    const sl = loader.cache.get(cs.statusListCredential);
    const enc = sl && sl.credentialSubject && sl.credentialSubject.encodedList;
    if(typeof enc !== 'string' || !enc.startsWith('u')) {
      continue; // not loaded, or the library already reported it
    }
    const where = `encodedList of ${cs.statusListCredential}`;
    const b64 = enc.slice(1);
    if(!/^[A-Za-z0-9_-]*$/.test(b64)) {
      out.push(`${where}: not unpadded base64url`);
    }
    const raw = Buffer.from(b64.replace(/\+/g, '-').replace(/\//g, '_'),
      'base64url');
    if(!(raw[0] === 0x1f && raw[1] === 0x8b)) {
      out.push(`${where}: not GZIP (magic 1f8b missing)`);
    }
    let bits = null;
    try {
      bits = zlib.unzipSync(raw).length * 8;
    } catch(e) {
      out.push(`${where}: cannot decompress: ${e.message}`);
    }
    if(bits !== null && bits < MIN_LIST_BITS) {
      out.push(`${where}: ${bits} bits < spec minimum ${MIN_LIST_BITS}`);
    }
  }
  return out;
}

function readList(file) {
  const text = fs.readFileSync(file, 'utf8');
  if(text.trimStart().startsWith('[')) {
    const arr = JSON.parse(text);
    if(!Array.isArray(arr) || arr.some(x => typeof x !== 'string')) {
      throw new Error('credentials list must be a JSON array of strings');
    }
    return arr;
  }
  return text.split(/\r?\n/).map(s => s.trim()).filter(Boolean);
}

async function main() {
  let args;
  try {
    ({values: args} = parseArgs({
      options: {
        'credential': {type: 'string'},
        'credentials-list': {type: 'string'},
        'resolve': {type: 'string', multiple: true, default: []},
        'site-dir': {type: 'string'},
        'base-url': {type: 'string'},
        'now': {type: 'string'},
        'no-status': {type: 'boolean', default: false},
        'contexts': {type: 'string'},
        'map': {type: 'string', multiple: true, default: []},
        'mode': {type: 'string', default: 'digitalbazaar'},
        'schemas': {type: 'string'},
        'help': {type: 'boolean', short: 'h', default: false}
      },
      strict: true,
      allowPositionals: false
    }));
  } catch(e) {
    usage(e.message);
  }
  if(args.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const modes = ['credential', 'credentials-list']
    .filter(k => args[k] !== undefined);
  if(args.resolve.length) {
    modes.push('resolve');
  }
  if(modes.length !== 1) {
    usage('exactly one of --credential, --credentials-list, --resolve');
  }
  if(!args['site-dir'] || !args['base-url']) {
    usage('--site-dir and --base-url are required');
  }
  if(!fs.existsSync(args['site-dir']) ||
    !fs.statSync(args['site-dir']).isDirectory()) {
    usage(`--site-dir is not a directory: ${args['site-dir']}`);
  }
  if(!MODES.includes(args.mode)) {
    usage(`unknown --mode "${args.mode}" (one of ${MODES.join(', ')})`);
  }
  if(args.now !== undefined && isNaN(new Date(args.now))) {
    usage(`--now is not a valid date: ${args.now}`);
  }
  const mounts = [];
  for(const m of args.map) {
    const i = m.indexOf('=');
    if(i <= 0) {
      usage(`--map must be URLPREFIX=DIR, got "${m}"`);
    }
    mounts.push([m.slice(0, i), m.slice(i + 1)]);
  }
  let loader;
  try {
    loader = new SiteLoader({
      siteDir: args['site-dir'],
      baseUrl: args['base-url'],
      contextsDir: args.contexts || DEFAULT_CONTEXTS,
      mounts
    });
  } catch(e) {
    usage(e.message);
  }

  let out;
  if(args.resolve.length) {
    out = [];
    for(const url of args.resolve) {
      try {
        const {document} = await loader.documentLoader(url);
        out.push({url, ok: true, document});
      } catch(e) {
        out.push({url, ok: false, error: e.message});
      }
    }
    if(out.length === 1) {
      out = out[0];
    }
  } else {
    const opts = {loader, checkStatus: !args['no-status'], now: args.now,
      mode: args.mode};
    if(args.mode === 'verifier-core') {
      opts.vcore = await import('./vcore.mjs');
      await opts.vcore.initVerifierCore({
        loader, schemasDir: args.schemas || DEFAULT_SCHEMAS});
    }
    if(args.credential !== undefined) {
      out = await verifyFile(args.credential, opts);
    } else {
      let files;
      try {
        files = readList(args['credentials-list']);
      } catch(e) {
        usage(`cannot read --credentials-list: ${e.message}`);
      }
      out = [];
      for(const f of files) {
        out.push(await verifyFile(f, opts));
      }
    }
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch(e => {
  process.stderr.write(`verify.mjs: internal error: ${e.stack || e}\n`);
  process.exit(1);
});
