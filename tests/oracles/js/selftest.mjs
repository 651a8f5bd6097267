#!/usr/bin/env node
/*
 * Fixture generator for the oracle self-check. Uses ONLY the Digital Bazaar
 * libraries (no badgekiln code) to build a tiny static site:
 *
 *   node selftest.mjs --out DIR [--base-url URL] [--did DID] [--manifest FILE]
 *
 * defaults: --base-url https://badges.example.org/  --did did:web:badges.example.org
 * The did:web DID must resolve under --base-url. Writes:
 *   DIR/<did.json path>               DID document (Multikey, assertionMethod)
 *   DIR/status/1.json                 BitstringStatusListCredential, all clear
 *   DIR/status/2.json                 same, bit REVOKED_INDEX set
 *   DIR/badges/valid.json             OpenBadgeCredential -> status/1.json
 *   DIR/badges/revoked.json           OpenBadgeCredential -> status/2.json
 *   DIR/badges/tampered.json          valid.json with achievement.name changed
 *   DIR/badges/nostatus.json          no credentialStatus
 *   DIR/badges/foreign-status.json    status list on a URL outside the site
 *   DIR/badges/expired.json           validFrom 2020, validUntil 2021
 *   DIR/badges/didkey.json            issuer did:key (no status)
 *   DIR/badges/wrong-key.json         signed by a key not in did.json
 * and prints a JSON manifest (paths, DID, key, expected outcomes); also
 * written to FILE with --manifest FILE.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {createList, createCredential} from
  '@digitalbazaar/vc-bitstring-status-list';
import {fileURLToPath} from 'node:url';
import {SiteLoader, didWebToUrl} from './loader.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONTEXTS = path.resolve(HERE, '../../../src/badgekiln/data/contexts');
const OB3_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const VC2_CONTEXT = 'https://www.w3.org/ns/credentials/v2';
export const REVOKED_INDEX = 42;
const LIST_LENGTH = 131072; // 16 KiB, the spec minimum

const {values: args} = parseArgs({
  options: {
    'out': {type: 'string'},
    'base-url': {type: 'string', default: 'https://badges.example.org/'},
    'did': {type: 'string'},
    'manifest': {type: 'string'},
    'contexts': {type: 'string', default: CONTEXTS}
  }
});
if(!args.out) {
  process.stderr.write('usage: node selftest.mjs --out DIR ' +
    '[--base-url URL] [--did did:web:...] [--manifest FILE]\n');
  process.exit(2);
}
let base = args['base-url'];
if(!base.endsWith('/')) {
  base += '/';
}
const did = args.did || `did:web:${encodeURIComponent(new URL(base).host)}`;
const outDir = path.resolve(args.out);

// where the DID document lives inside the site dir (independent, literal
// computation from the did:web URL and the base URL)
const didUrl = didWebToUrl(did);
if(!didUrl.startsWith(base.replace(/^http:/, 'https:'))) {
  throw new Error(`DID ${did} (${didUrl}) does not resolve under ${base}`);
}
const didRel = didUrl.slice(base.length);

function write(rel, obj) {
  const p = path.join(outDir, ...rel.split('/'));
  fs.mkdirSync(path.dirname(p), {recursive: true});
  fs.writeFileSync(p, JSON.stringify(obj, null, 2) + '\n');
  return p;
}

// loader used while signing: contexts only + the site being built
const loader = new SiteLoader({
  siteDir: outDir, baseUrl: base, contextsDir: args.contexts
});

async function sign(credential, key) {
  const suite = new DataIntegrityProof({
    signer: key.signer(), cryptosuite: eddsaRdfc2022CryptoSuite
  });
  return vc.issue({credential, suite, documentLoader: loader.documentLoader});
}

function isoSeconds(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// --- keys and DID document --------------------------------------------------
const keyId = `${did}#key-1`;
const key = await Ed25519Multikey.generate({id: keyId, controller: did});
const publicKey = await key.export({publicKey: true, includeContext: false});
const didDocument = {
  '@context': ['https://www.w3.org/ns/did/v1',
    'https://w3id.org/security/multikey/v1'],
  id: did,
  verificationMethod: [{
    id: keyId,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase: publicKey.publicKeyMultibase
  }],
  assertionMethod: [keyId]
};
fs.mkdirSync(outDir, {recursive: true});
write(didRel, didDocument);

// an attacker key claiming to be key-1 of our DID (not in did.json)
const rogueKey = await Ed25519Multikey.generate({id: keyId, controller: did});

// --- status lists ------------------------------------------------------------
const now = new Date();
const validFrom = isoSeconds(new Date(now.getTime() - 3600 * 1000));
async function statusList(n, setIndex) {
  const id = `${base}status/${n}.json`;
  const list = await createList({length: LIST_LENGTH});
  if(setIndex !== undefined) {
    list.setStatus(setIndex, true);
  }
  const cred = await createCredential({
    id, list, statusPurpose: 'revocation', context: [VC2_CONTEXT]
  });
  cred.issuer = did;
  cred.validFrom = validFrom;
  const signed = await sign(cred, key);
  write(`status/${n}.json`, signed);
  return id;
}
const list1 = await statusList(1);
const list2 = await statusList(2, REVOKED_INDEX);

// --- credentials -------------------------------------------------------------
const email = 'learner@example.com';
const salt = crypto.randomBytes(8).toString('hex');
const identityHash = 'sha256$' +
  crypto.createHash('sha256').update(email + salt, 'utf8').digest('hex');

function credentialBody(name, {issuer = did, status, extra = {}} = {}) {
  const cred = {
    '@context': [VC2_CONTEXT, OB3_CONTEXT],
    id: `${base}badges/${name}.json`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: 'Kiln Safety Basics',
    issuer: {id: issuer, type: ['Profile'], name: 'Example Ceramics Guild'},
    validFrom,
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [{
        type: 'IdentityObject',
        hashed: true,
        identityHash,
        identityType: 'emailAddress',
        salt
      }],
      achievement: {
        id: `${base}achievements/kiln-safety.json`,
        type: ['Achievement'],
        name: 'Kiln Safety Basics',
        description: 'Operates an electric kiln safely.',
        criteria: {narrative: 'Completed the **kiln safety** workshop.'}
      }
    },
    ...extra
  };
  if(status) {
    cred.credentialStatus = {
      id: `${status.list}#${status.index}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: String(status.index),
      statusListCredential: status.list
    };
  }
  return cred;
}

const files = {};
const expect = {};
async function emit(name, cred, signingKey = key, expectation) {
  const signed = await sign(cred, signingKey);
  files[name] = write(`badges/${name}.json`, signed);
  expect[name] = expectation;
  return signed;
}

const valid = await emit('valid',
  credentialBody('valid', {status: {list: list1, index: REVOKED_INDEX}}),
  key, {verified: true, revoked: false});
await emit('revoked',
  credentialBody('revoked', {status: {list: list2, index: REVOKED_INDEX}}),
  key, {verified: false, revoked: true});
await emit('nostatus', credentialBody('nostatus'), key,
  {verified: true, revoked: null});
await emit('foreign-status', credentialBody('foreign-status', {
  status: {list: 'https://elsewhere.example.net/status/1.json', index: 3}
}), key, {verified: false, error: 'offline: not allowed'});
await emit('expired', credentialBody('expired', {
  extra: {validFrom: '2020-01-01T00:00:00Z', validUntil: '2021-01-01T00:00:00Z'}
}), key, {verified: false, verifiedWithNow: '2020-06-01T00:00:00Z'});
await emit('wrong-key', credentialBody('wrong-key'), rogueKey,
  {verified: false});

// tampered: change the achievement name after signing
const tampered = structuredClone(valid);
tampered.credentialSubject.achievement.name = 'Kiln Safety MASTER';
files.tampered = write('badges/tampered.json', tampered);
expect.tampered = {verified: false};

// did:key issuer (key resolved locally by @digitalbazaar/did-method-key)
const dkKey = await Ed25519Multikey.generate();
const dkDid = `did:key:${dkKey.publicKeyMultibase}`;
dkKey.id = `${dkDid}#${dkKey.publicKeyMultibase}`;
dkKey.controller = dkDid;
await emit('didkey', credentialBody('didkey', {issuer: dkDid}), dkKey,
  {verified: true, revoked: null});

const manifest = {
  siteDir: outDir,
  baseUrl: base,
  did,
  didDocumentPath: path.join(outDir, ...didRel.split('/')),
  keyId,
  publicKeyMultibase: publicKey.publicKeyMultibase,
  didKey: dkDid,
  statusLists: {clear: list1, revoked: list2},
  revokedIndex: REVOKED_INDEX,
  credentials: files,
  expect
};
if(args.manifest) {
  fs.writeFileSync(args.manifest, JSON.stringify(manifest, null, 2) + '\n');
}
process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
