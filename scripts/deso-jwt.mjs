// Signs a JWT with DeSo's own SDK (deso-protocol's getSignedJWT), for tests and curl.
//   npm install --prefix .tools/deso deso-protocol@3.4.1
//   node scripts/deso-jwt.mjs <seed hex>   -> {"publicKey", "jwt", "iat"}
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

globalThis.window = globalThis; // the SDK's base64 helper reads window.btoa
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '.tools', 'deso', 'node_modules', 'deso-protocol');
const require = createRequire(import.meta.url);
const pkg = require(path.join(root, 'package.json'));
const entry = pkg.module || pkg.main;
const sdk = await import(pathToFileURL(path.join(root, entry)).href);
const { getSignedJWT, publicKeyToBase58Check } = sdk;
const secp = await import(pathToFileURL(path.join(root, '..', '@noble', 'secp256k1', 'lib', 'esm', 'index.js')).href);

const seedHex = process.argv[2] ?? '11'.repeat(32);
const publicKey = publicKeyToBase58Check(secp.getPublicKey(seedHex, true));
const jwt = await getSignedJWT(seedHex, 'ES256', {});
const iat = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).iat;
console.log(JSON.stringify({ publicKey, jwt, iat }));
