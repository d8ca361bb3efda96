/**
 * `npm run lint:layers`: checks every import in packages/, test/, bench/ and scripts/ against the layer
 * rules in .dependency-cruiser.mjs (dependency-cruiser, one pass) and prints what breaks them, grouped by
 * rule with the rule's reason once. A folder cycle is shown with the file imports that make each step, so
 * you see which import to move. Exit code 1 on any violation.
 *
 *   node scripts/lint-layers.ts              the repository
 *   node scripts/lint-layers.ts <dir>        another tree laid out the same way (the test's fixture)
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LAYER_RULES_FILE = join(ROOT, '.dependency-cruiser.mjs');
const TARGETS = ['packages', 'test', 'bench', 'scripts'];

export interface LayerViolation {
  rule: string;
  /** A file, or a folder for no-folder-cycle. */
  from: string;
  to: string;
  /** For cycles: the whole loop, starting and ending at `from`. */
  cycle?: string[];
}

export interface LayerReport {
  violations: LayerViolation[];
  /** Human-readable report: empty when clean. */
  text: string;
  modules: number;
  imports: number;
}

/** Cruises `baseDir` (its packages/, test/, bench/, scripts/ that exist) with the repository's layer rules. */
export async function checkLayers(baseDir: string = ROOT): Promise<LayerReport> {
  const options = await extractDepcruiseOptions(LAYER_RULES_FILE);
  const tsConfigFile = join(baseDir, 'tsconfig.json');
  options.baseDir = baseDir;
  options.outputType = 'json';
  options.tsConfig = { fileName: tsConfigFile };
  const targets = TARGETS.filter((t) => existsSync(join(baseDir, t)));
  const result = await cruise(targets, options, {}, { tsConfig: extractTSConfig(tsConfigFile) });
  const cruised = (typeof result.output === 'string' ? JSON.parse(result.output) : result.output) as ICruiseResult;
  const violations = uniqueCycles(cruised.summary.violations.filter((v) => v.rule.severity === 'error').map(toLayerViolation));
  return {
    violations,
    text: describe(violations, cruised),
    modules: cruised.summary.totalCruised,
    imports: cruised.summary.totalDependenciesCruised ?? 0,
  };
}

function toLayerViolation(v: IViolation): LayerViolation {
  const cycle = v.cycle?.map((step) => step.name);
  return { rule: v.rule.name, from: v.from, to: v.to, ...(cycle?.length ? { cycle: [v.from, ...cycle] } : {}) };
}

/** dependency-cruiser reports a cycle once from each member: keep one per loop. */
function uniqueCycles(violations: LayerViolation[]): LayerViolation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    if (!v.cycle) return true;
    const loop = v.cycle.slice(0, -1);
    const key = `${v.rule}:${[...loop].sort().join('|')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function describe(violations: LayerViolation[], cruised: ICruiseResult): string {
  if (!violations.length) return '';
  const comments = new Map((cruised.summary.ruleSetUsed?.forbidden ?? []).map((r) => [r.name ?? '', r.comment ?? '']));
  const lines: string[] = [];
  for (const rule of [...new Set(violations.map((v) => v.rule))]) {
    lines.push('', `✖ ${rule}`, ...wrap(comments.get(rule) ?? '', '    '));
    for (const v of violations.filter((x) => x.rule === rule)) {
      if (!v.cycle) {
        lines.push(`  ${v.from} → ${v.to}`);
      } else if (rule === 'no-folder-cycle') {
        // Each step with the file imports that make it; the step with the fewest is usually the one to cut.
        lines.push(`  ${v.cycle.join(' → ')}`);
        for (let i = 0; i + 1 < v.cycle.length; i++) {
          const edges = fileImports(cruised, v.cycle[i]!, v.cycle[i + 1]!);
          lines.push(`    ${v.cycle[i]} → ${v.cycle[i + 1]} (${edges.length} import${edges.length === 1 ? '' : 's'}):`);
          for (const edge of edges.slice(0, 3)) lines.push(`      ${edge}`);
          if (edges.length > 3) lines.push(`      … ${edges.length - 3} more`);
        }
      } else {
        lines.push(`  ${v.cycle.join(' → ')}`);
      }
    }
  }
  lines.push('', `${violations.length} layer violation${violations.length === 1 ? '' : 's'} (rules: .dependency-cruiser.mjs; README, "Layer rules")`);
  return lines.join('\n');
}

/** The file imports behind one step of a folder cycle: files in (or below) `from` importing files in `to`. */
function fileImports(cruised: ICruiseResult, from: string, to: string): string[] {
  const edges: string[] = [];
  for (const m of cruised.modules) {
    if (!m.source.startsWith(`${from}/`)) continue;
    for (const d of m.dependencies) {
      if (dirname(d.resolved) === to && !d.resolved.startsWith(`${from}/`)) edges.push(`${m.source} → ${d.resolved}`);
    }
  }
  return edges;
}

function wrap(text: string, indent: string, width = 110): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(indent + line);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const report = await checkLayers(process.argv[2] ? resolve(process.argv[2]) : ROOT);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (report.violations.length) {
    console.error(report.text);
    process.exitCode = 1;
  } else {
    console.log(`✔ layer rules: ${report.modules} modules, ${report.imports} imports, no violations (${seconds} s)`);
  }
}
