/**
 * The preset tables of `docs/reproducing.md`, from the effective config of each task under
 * each preset: `deno run -A scripts/preset_table.ts` prints them; with `--write` it replaces
 * the tables between the document's markers (run `deno fmt docs/` after). The test
 * `tests/presets_test.ts` checks the document's cells against the same configs.
 *
 * @module
 */
import {
  presetTableBlock,
  presetTableEnd,
  presetTables,
  presetTableStart,
} from "../lib/revise/preset_docs.ts";
import { PRESETS } from "../lib/revise/presets.ts";

const DOC = new URL("../docs/reproducing.md", import.meta.url);

if (import.meta.main) {
  if (!Deno.args.includes("--write")) {
    console.log(presetTables());
  } else {
    let text = await Deno.readTextFile(DOC);
    for (const preset of PRESETS) {
      const start = text.indexOf(presetTableStart(preset));
      const end = text.indexOf(presetTableEnd(preset));
      if (start < 0 || end < start) {
        throw new Error(`docs/reproducing.md: no ${preset} table markers`);
      }
      text = text.slice(0, start) + presetTableBlock(preset) +
        text.slice(end + presetTableEnd(preset).length);
    }
    await Deno.writeTextFile(DOC, text);
    console.log("docs/reproducing.md: preset tables rewritten; run deno fmt docs/");
  }
}
