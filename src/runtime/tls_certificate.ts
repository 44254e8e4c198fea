/**
 * Reads the TLS certificate chain and private key named by `tls_cert` and `tls_key` (PEM files)
 * and checks them before they are used: both parse, and the key belongs to the certificate.
 * The TLS stack would take a bad pair without complaint and then fail every handshake, so a
 * renewed certificate is checked here, and a bad one is refused while the old one stays in use.
 *
 * @module
 */
import { oneLineMessageOf } from "../protocol/error_message.ts";
import { createPrivateKey, X509Certificate } from "node:crypto";

/** A checked certificate and key, with what the log says about them. */
export interface TlsCertificate {
  /** PEM text of the certificate chain, leaf first. */
  readonly cert: string;
  /** PEM text of the private key. */
  readonly key: string;
  /** The leaf's serial number, in hex as OpenSSL prints it. */
  readonly serial: string;
  /** SHA-256 fingerprint of the leaf, colon-separated hex. */
  readonly fingerprint: string;
  /** The leaf's expiry, as the certificate states it. */
  readonly validTo: string;
}

/** Reads and checks a PEM certificate chain and key. Throws an `Error` naming the file at fault. */
export async function loadTlsCertificate(
  certPath: string,
  keyPath: string,
): Promise<TlsCertificate> {
  const cert = await readPem(certPath, "certificate");
  const key = await readPem(keyPath, "key");
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`"${certPath}" is not a PEM certificate: ${oneLineMessageOf(error)}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new Error(`"${keyPath}" is not a PEM private key: ${oneLineMessageOf(error)}`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new Error(`the key in "${keyPath}" does not belong to the certificate in "${certPath}"`);
  }
  return {
    cert,
    key,
    serial: leaf.serialNumber,
    fingerprint: leaf.fingerprint256,
    validTo: leaf.validTo,
  };
}

/** One line for the log: serial, fingerprint and expiry. */
export function describeCertificate(certificate: TlsCertificate): string {
  return `serial ${certificate.serial}, SHA-256 ${certificate.fingerprint}, ` +
    `valid to ${certificate.validTo}`;
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "no such file" : oneLineMessageOf(error);
    throw new Error(`cannot read TLS ${what} "${path}": ${reason}`, { cause: error });
  }
}
