/** Runs CPU-engine jobs in a Web Worker, one at a time per client, in the order asked. */
import type { CurveProgress } from '../../src/jobs/curve/run.ts';
import type { CurveSpecInput } from '../../src/jobs/curve/spec.ts';
import type { LandscapeSpecInput } from '../../src/jobs/landscape.ts';
import type { CpuJob, CpuJobResult, CurveJobResult, LandscapeJobResult, PointsJobResult } from './cpu-job.ts';

export type WorkerJob =
  | { kind: 'ensemble'; job: CpuJob }
  | { kind: 'landscape'; spec: LandscapeSpecInput; threads: number }
  | { kind: 'points'; spec: LandscapeSpecInput; points: Float64Array[] }
  | { kind: 'curve'; spec: CurveSpecInput };

export interface WorkerRequest {
  id: number;
  request: WorkerJob;
}

interface Pending {
  resolve: (r: never) => void;
  reject: (e: Error) => void;
  onProgress?: (p: CurveProgress) => void;
}

export class CpuWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();

  private get w(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL('./cpu-worker.ts', import.meta.url), { type: 'module' });
      this.worker.onmessage = (event: MessageEvent<{ id: number; result?: unknown; error?: string; progress?: CurveProgress }>) => {
        const p = this.pending.get(event.data.id);
        if (!p) return;
        if (event.data.progress) {
          p.onProgress?.(event.data.progress);
          return;
        }
        this.pending.delete(event.data.id);
        if (event.data.error !== undefined) p.reject(new Error(event.data.error));
        else p.resolve(event.data.result as never);
      };
      this.worker.onerror = (event) => {
        for (const p of this.pending.values()) p.reject(new Error(`CPU worker failed: ${event.message}`));
        this.pending.clear();
      };
    }
    return this.worker;
  }

  private send<T>(request: WorkerJob, onProgress?: (p: CurveProgress) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: never) => void, reject, onProgress });
      this.w.postMessage({ id, request } satisfies WorkerRequest);
    });
  }

  run(job: CpuJob): Promise<CpuJobResult> {
    return this.send({ kind: 'ensemble', job });
  }

  landscape(spec: LandscapeSpecInput, threads = navigator.hardwareConcurrency || 1): Promise<LandscapeJobResult> {
    return this.send({ kind: 'landscape', spec, threads });
  }

  points(spec: LandscapeSpecInput, points: Float64Array[]): Promise<PointsJobResult> {
    return this.send({ kind: 'points', spec, points });
  }

  curve(spec: CurveSpecInput, onProgress?: (p: CurveProgress) => void): Promise<CurveJobResult> {
    return this.send({ kind: 'curve', spec }, onProgress);
  }

  /** Abandons every job in flight (their promises reject) and stops the worker. */
  terminate(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new Error('cancelled'));
    this.pending.clear();
  }
}
