/**
 * The preset tables of `docs/reproducing.md`, generated from the effective config of each
 * task under each preset (the preset applied, then the config resolved as a session
 * resolves it), so the document shows what a run records in `config.json`.
 *
 * @module
 */
import type { Preset, RunConfig } from "../run/config.ts";
import { resolveRunConfig } from "./config.ts";
import {
  applyPreset,
  PRESET_TASKS,
  PRESETS,
  presetTableMarkdown,
  type PresetTask,
} from "./presets.ts";

/** The effective config of `task` under `preset`, with no other field given. */
export function effectivePresetConfig(preset: Preset, task: PresetTask): RunConfig {
  return resolveRunConfig(applyPreset({ preset, task }), { env: {} });
}

/** The start marker of a preset's table in the document. */
export function presetTableStart(preset: Preset): string {
  return `<!-- preset-table:${preset}:start (generated: deno run -A scripts/preset_table.ts --write) -->`;
}

/** The end marker of a preset's table in the document. */
export function presetTableEnd(preset: Preset): string {
  return `<!-- preset-table:${preset}:end -->`;
}

/** One preset's table between its markers. */
export function presetTableBlock(preset: Preset): string {
  const configs = Object.fromEntries(
    PRESET_TASKS.map((t) => [t, effectivePresetConfig(preset, t)]),
  ) as Record<PresetTask, RunConfig>;
  return [presetTableStart(preset), presetTableMarkdown(configs), presetTableEnd(preset)]
    .join("\n");
}

/** Every preset's table, as the document holds them. */
export function presetTables(): string {
  return PRESETS.map((p) => `### \`${p}\`\n\n${presetTableBlock(p)}`).join("\n\n");
}
