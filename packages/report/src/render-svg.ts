// Renders a Vega-Lite spec to SVG in Node: compile to Vega, run a headless view (no canvas, no DOM).
import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The SVG of a Vega-Lite chart. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Prefixes every id an SVG defines (Vega's clip paths and gradients, `clip1`...) and every reference to one: each
 * chart numbers its ids from 1, so two charts inlined in one HTML page would otherwise clip by each other's paths.
 */
export function namespaceSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
}
