/**
 * The dashboard page's entry: reads the server's configuration, wires the sections and shows the
 * one the address names (#overview, #dead-letters, #tasks, #enqueue), without reloads.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { get, showError } from './api.js';
import { startDeadLetters } from './dead-letters.js';
import { startOverview } from './overview.js';
import { startEnqueue, startTaskLookup } from './tasks.js';

interface Config {
  description: string;
  tiers: string[];
  enqueue: boolean;
}

const SECTIONS = ['overview', 'dead-letters', 'tasks', 'enqueue'] as const;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = await get<Config>('/config');
  } catch (error) {
    showError(error);
    return;
  }
  (document.getElementById('target') as HTMLElement).textContent = config.description;
  const overview = startOverview(2_000);
  const letters = startDeadLetters(config.tiers);
  startTaskLookup();
  if (config.enqueue) startEnqueue(config.tiers);
  else {
    (document.getElementById('nav-enqueue') as HTMLElement).remove();
    (document.getElementById('enqueue') as HTMLElement).remove();
  }

  const show = () => {
    const wanted = location.hash.slice(1);
    const current = SECTIONS.find((s) => s === wanted && document.getElementById(s)) ?? 'overview';
    for (const section of SECTIONS) {
      const node = document.getElementById(section);
      if (node) node.hidden = section !== current;
    }
    for (const link of document.querySelectorAll('nav a')) {
      if (link.getAttribute('href') === `#${current}`) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (current === 'overview') void overview.refresh();
    if (current === 'dead-letters') void letters.refresh();
  };
  window.addEventListener('hashchange', show);
  show();
}

void main();
