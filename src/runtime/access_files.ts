/**
 * The files re-read on SIGHUP besides the allowlist: the TLS certificate and key (`tls_cert`,
 * `tls_key`) and the passkey list (`passkeys`). As with the allowlist, each is loaded whole and
 * checked aside, then swapped in with one assignment; a bad file at start stops the start with a
 * message naming it, and a bad file on reload is logged while the old one stays in force.
 *
 * @module
 */
import { messageOf } from "../protocol/error_message.ts";
import type { Passkeys } from "../core/passkeys.ts";
import type { Config } from "../config.ts";
import type { Logger } from "./logger.ts";
import { loadPasskeys } from "./passkey_loader.ts";
import { describeCertificate, loadTlsCertificate, type TlsCertificate } from "./tls_certificate.ts";

/** Where a reloaded certificate goes (the listener). */
export interface CertificateSink {
  setCertificate(pem: { cert: string; key: string }): void;
}

/** The TLS certificate and passkey list in force. */
export class AccessFiles {
  readonly #config: Config;
  readonly #logger: Logger;
  #certificate: TlsCertificate | null;
  #passkeys: Passkeys | null;

  private constructor(
    config: Config,
    logger: Logger,
    certificate: TlsCertificate | null,
    passkeys: Passkeys | null,
  ) {
    this.#config = config;
    this.#logger = logger;
    this.#certificate = certificate;
    this.#passkeys = passkeys;
  }

  /** Loads both at start. Throws an `Error` naming the file that is missing or bad. */
  static async load(config: Config, logger: Logger): Promise<AccessFiles> {
    const certificate = await loadCertificateOf(config);
    if (certificate !== null) {
      logger.log("startup", `TLS certificate ${describeCertificate(certificate)}`);
    }
    const passkeys = await loadPasskeysOf(config, logger);
    return new AccessFiles(config, logger, certificate, passkeys);
  }

  /** The certificate to serve HTTPS with, or `null` for plain HTTP. */
  get certificate(): TlsCertificate | null {
    return this.#certificate;
  }

  /** The passkey list in force, or `null` when passkeys are off. */
  get passkeys(): Passkeys | null {
    return this.#passkeys;
  }

  /** Re-reads both; each file that fails keeps its old value and is logged. */
  async reload(listener: CertificateSink): Promise<void> {
    const config = this.#config;
    if (config.tls_cert !== null) {
      try {
        const next = (await loadCertificateOf(config))!;
        listener.setCertificate(next);
        this.#certificate = next;
        this.#logger.log("startup", `TLS certificate reloaded: ${describeCertificate(next)}`);
      } catch (error) {
        this.#logger.log(
          "error",
          `TLS reload failed, keeping the old certificate: ${messageOf(error)}`,
        );
      }
    }
    if (config.passkeys !== null) {
      try {
        this.#passkeys = await loadPasskeysOf(config, this.#logger);
      } catch (error) {
        this.#logger.log(
          "error",
          `passkey reload failed, keeping the old list: ${messageOf(error)}`,
        );
      }
    }
  }
}

async function loadCertificateOf(config: Config): Promise<TlsCertificate | null> {
  if (config.tls_cert === null || config.tls_key === null) return null;
  return await loadTlsCertificate(config.tls_cert, config.tls_key);
}

async function loadPasskeysOf(config: Config, logger: Logger): Promise<Passkeys | null> {
  if (config.passkeys === null) return null;
  const { passkeys, skipped } = await loadPasskeys(config.passkeys);
  for (const line of skipped) {
    logger.log("error", `skipped ${config.passkeys} line ${line.line}: ${line.reason}`);
  }
  logger.log("startup", `${passkeys.size} passkeys loaded from ${config.passkeys}`);
  return passkeys;
}
