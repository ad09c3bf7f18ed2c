/** The demos' Web Worker: runs CPU-engine jobs (f64) off the page's thread. */
import { runCpuJob, runCurveJob, runLandscapeJob, runPointsJob } from './cpu-job.ts';
import type { WorkerRequest } from './cpu-client.ts';

const post = (message: unknown) => (self as unknown as Worker).postMessage(message);

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { id, request } = event.data;
  try {
    let result: unknown;
    switch (request.kind) {
      case 'ensemble': result = await runCpuJob(request.job); break;
      case 'landscape': result = await runLandscapeJob(request.spec, request.threads); break;
      case 'points': result = await runPointsJob(request.spec, request.points); break;
      case 'curve': result = await runCurveJob(request.spec, (progress) => post({ id, progress })); break;
    }
    post({ id, result });
  } catch (error) {
    post({ id, error: String((error as Error)?.message ?? error) });
  }
};
