// Renders the page's results: the top classes with probability bars (what the page says about the model is
// model-description.ts).
import type { Prediction } from '@depthfold/infer';

const percent = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 });

/** Lists the top classes, most probable first, with a bar per probability. */
export function renderTop(list: HTMLElement, top: readonly Prediction[]): void {
  list.replaceChildren(
    ...top.map((p) => {
      const item = document.createElement('li');
      item.dataset.index = String(p.index);
      const label = document.createElement('div');
      label.className = 'label';
      label.append(span(p.label, 'name'), span(percent.format(p.probability), 'probability'));
      const bar = document.createElement('div');
      bar.className = 'bar';
      const fill = span('', '');
      fill.style.width = `${(p.probability * 100).toFixed(1)}%`;
      bar.append(fill);
      item.append(label, bar);
      return item;
    }),
  );
}

function span(text: string, className: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.textContent = text;
  if (className) s.className = className;
  return s;
}
