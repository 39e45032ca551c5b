// Reads the figures bench:serve needs from the server's own `GET /metrics` (Prometheus text): answered requests
// and the main thread's CPU, so that CPU per request is the server's own account, not the shutdown log's.
/** The samples of one scrape that the bench uses. */
export interface MetricsSample {
  /** Inference requests answered with success, over both protocols. */
  successes: number;
  /** Inference requests answered, whatever the outcome, over both protocols. */
  requests: number;
  /** CPU seconds of the server's main thread (HTTP, JSON, gRPC, batching). */
  mainThreadCpu: number;
  /** CPU seconds of the whole server process, ORT threads included. */
  processCpu: number;
  /** Mean rows per ORT call and ORT call count, from the batch size histogram. */
  rows: number;
  calls: number;
}

function sum(text: string, name: string, labelFilter = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labelFilter && !rest.includes(labelFilter)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Scrapes `url/metrics`. */
export async function scrape(url: string): Promise<MetricsSample> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    successes: sum(text, 'depthfold_inference_requests_total', 'outcome="success"'),
    requests: sum(text, 'depthfold_inference_requests_total'),
    mainThreadCpu: sum(text, 'depthfold_main_thread_cpu_seconds_total'),
    processCpu: sum(text, 'process_cpu_seconds_total'),
    rows: sum(text, 'depthfold_batch_size_sum'),
    calls: sum(text, 'depthfold_batch_size_count'),
  };
}
