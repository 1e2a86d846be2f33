/**
 * The `rpt` command line on a disk that fills up, where a real small file system cannot be
 * mounted (a container without the right to mount): writes of text files under the directory
 * `RPT_FULL_DISK_DIR` fail as the kernel fails them on a full disk (`ENOSPC`, os error 28)
 * once `RPT_FULL_DISK_BYTES` bytes have been written there. Everything else is the real CLI.
 *
 * usage: deno run -A full_disk_cli.ts <rpt arguments>
 */
import { main } from "../../../lib/cli.ts";

const dir = Deno.env.get("RPT_FULL_DISK_DIR") ?? "";
let left = Number(Deno.env.get("RPT_FULL_DISK_BYTES") ?? "0");
if (dir === "" || !Number.isFinite(left)) {
  throw new Error("set RPT_FULL_DISK_DIR and RPT_FULL_DISK_BYTES");
}
const writeTextFile = Deno.writeTextFile;
Deno.writeTextFile = (path, data, options) => {
  const text = typeof data === "string" ? data : "";
  if (String(path).startsWith(dir)) {
    left -= text.length;
    if (left < 0) {
      const error = new Error(`No space left on device (os error 28): writefile '${path}'`);
      return Promise.reject(Object.assign(error, { code: "ENOSPC" }));
    }
  }
  return writeTextFile(path, data, options);
};
Deno.exit(await main(Deno.args));
