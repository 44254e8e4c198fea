/**
 * What Linux's `/proc` says about a server process: CPU time (user + system, in clock ticks, from
 * `/proc/<pid>/stat`) and resident memory (`VmRSS` of `/proc/<pid>/status`). The load runner
 * reads them before and after a measured phase, so the figures are the server's own, whatever
 * the generator costs.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on Linux). */
export const TICKS_PER_SECOND = 100;

/** utime + stime of a process, in clock ticks. */
export function readCpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 (utime) and 15 (stime) of the whole line are 11 and 12 after field 2.
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident set size of a process, in bytes. */
export function readRssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
