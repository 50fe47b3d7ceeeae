// The independent judge: Digital Bazaar's verifier, given one credential and the only documents it
// may load (our published DID documents, bundled contexts and status lists). Nothing is fetched.
// Input: a JSON file {"credential": {...}, "documents": {"<url or DID>": {...}}}.
// Output: {"verified": bool, "errors": [...], "status": {"revocation": bool, ...}}.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const {credential, documents} = JSON.parse(readFileSync(process.argv[2], 'utf8'));

async function documentLoader(url) {
  const [base, fragment] = url.split('#');
  const document = documents[url] ?? documents[base];
  if(document === undefined) {
    throw new Error(`refused to load ${url}: not one of our published documents`);
  }
  if(fragment && base.startsWith('did:')) {
    // A verification method of a DID document, with the document's contexts.
    const method = (document.verificationMethod || []).find(m => m.id === url);
    if(!method) {
      throw new Error(`${url} is not in its DID document`);
    }
    return {contextUrl: null, documentUrl: url, document: {'@context': document['@context'], ...method}};
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
const out = {verified: false, errors: [], status: {}};
try {
  const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus: async () => ({verified: true})});
  out.verified = result.verified;
  if(!result.verified) {
    out.errors.push(String(result.error?.errors?.map(e => e.message) ?? result.error?.message ?? result.error));
  }
  if(result.verified) {
    for(const entry of credential.credentialStatus) {
      const single = {...credential, credentialStatus: entry};
      const status = await checkStatus({credential: single, documentLoader, suite, verifyBitstringStatusListCredential: true});
      if(!status.verified) {
        out.errors.push(`status ${entry.statusPurpose}: ${status.error?.message}`);
        out.status[entry.statusPurpose] = null;
      } else {
        out.status[entry.statusPurpose] = status.results ? status.results[0].status : status.status;
      }
    }
  }
} catch(error) {
  out.errors.push(String(error?.message ?? error));
}
process.stdout.write(JSON.stringify(out));
