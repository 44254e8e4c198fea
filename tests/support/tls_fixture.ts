/**
 * Self-signed certificates for TLS tests, made with Debian's `openssl` (CI installs it): an EC
 * P-256 key and a leaf certificate for `localhost` and `127.0.0.1` with a chosen serial, marked
 * `CA:FALSE` (rustls, which Deno's clients use, refuses a CA certificate as a server's own).
 *
 * @module
 */
import { join } from "node:path";

/** A certificate and its key, on disk and as text. */
export interface TestCertificate {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  /** The serial, in hex as OpenSSL prints it (`serial=...`). */
  serial: string;
}

/** Writes `<name>.crt` and `<name>.key` into `dir`, with serial `serial`. */
export async function makeCertificate(
  dir: string,
  name: string,
  serial: number,
): Promise<TestCertificate> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  await run([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-set_serial",
    String(serial),
  ]);
  return {
    certPath,
    keyPath,
    cert: await Deno.readTextFile(certPath),
    key: await Deno.readTextFile(keyPath),
    serial: evenHex(serial),
  };
}

/** The serial of the certificate a TLS server at `port` presents, read with `openssl s_client`. */
export async function servedSerial(port: number): Promise<string> {
  const shown = await run(
    ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost"],
    "",
  );
  const pem = shown.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/);
  if (pem === null) throw new Error(`openssl s_client showed no certificate:\n${shown}`);
  const serial = (await run(["x509", "-noout", "-serial"], pem[0])).trim();
  return serial.replace(/^serial=/, "");
}

/** Hex in upper case, padded to whole bytes, as OpenSSL prints serials. */
function evenHex(value: number): string {
  const hex = value.toString(16).toUpperCase();
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

async function run(args: string[], stdin?: string): Promise<string> {
  let child;
  try {
    child = new Deno.Command("openssl", {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(`cannot run openssl (apt-get install openssl): ${error}`);
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  try {
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(stdin));
      await writer.close();
    }
    const output = await child.output();
    const text = new TextDecoder().decode(output.stdout);
    if (!output.success) {
      throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    return text;
  } finally {
    clearTimeout(timer);
  }
}
